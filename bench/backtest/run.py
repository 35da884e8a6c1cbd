"""Score the rules over many seeded portfolios: per seed, then mean and spread (pure apart from CPU).

Two generators: the demo's (``bench.demo.generator``), on which thresholds and the risk model's
default coefficients were tuned (the *tuning* seeds), and an independent one
(``bench.backtest.independent``), written without knowledge of the model. The figures a reader should
quote are the *held-out* demo seeds and the independent seeds, never the tuning ones.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

from bench.backtest.replay import AccountResult, assess_account, examples, group_events, read_account
from services.analyzer.backtest.calibration import Calibration, calibrate
from services.analyzer.backtest.rules import RULES, run_backtest
from services.analyzer.backtest.scoring import BAD_OUTCOMES, RuleScore
from services.analyzer.model import DEFAULT_HALF_LIFE, DEFAULT_THRESHOLDS, Thresholds
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, RiskModel
from services.analyzer.model.risk_fit import DEFAULT_HORIZONS, Example

Source = Literal["demo", "independent"]
# Fixed so that every run reports the same portfolios: tuning happened on TUNING_SEEDS only.
TUNING_SEEDS: Final = tuple(range(1, 31))
HELD_OUT_SEEDS: Final = tuple(range(301, 331))
INDEPENDENT_SEEDS: Final = tuple(range(401, 421))
END: Final = date(2026, 11, 30)
LOOKBACK: Final = timedelta(days=180)
ACCOUNTS: Final[dict[Source, int]] = {"demo": 50, "independent": 120}


@dataclass(frozen=True, slots=True)
class Settings:
    """What the model runs with: thresholds, half-life and risk model."""

    thresholds: Thresholds = DEFAULT_THRESHOLDS
    half_life: timedelta = DEFAULT_HALF_LIFE
    risk: RiskModel = DEFAULT_RISK_MODEL


@dataclass(frozen=True, slots=True)
class SeedResult:
    """One portfolio scored: every rule, the story of each renewal, and the risk's predictions."""

    source: Source
    seed: int
    renewals: int
    bad: int
    scores: dict[str, RuleScore]
    # Per renewal: account, story, bad?, and the rules that flagged it.
    verdicts: tuple[tuple[str, str, bool, frozenset[str]], ...]
    predictions: tuple[tuple[float, bool], ...]
    accounts: tuple[AccountResult, ...] = field(default=(), compare=False)


def portfolio(source: Source, seed: int) -> tuple[tuple[dict[str, Any], ...], dict[str, str]]:
    """The events of a seeded portfolio and each account's story."""
    if source == "demo":
        from bench.demo.generator import generate as demo

        generated = demo(seed, end=END, accounts=ACCOUNTS["demo"])
        return generated.events, {a.account_id: a.archetype for a in generated.accounts}
    from bench.backtest.independent import generate as independent

    made = independent(seed, end=END, accounts=ACCOUNTS["independent"])
    return made.events, {a.account_id: a.story for a in made.accounts}


def score_seed(source: Source, seed: int, settings: Settings = Settings(), keep: bool = False) -> SeedResult:
    """Replay one portfolio through the model and score every rule over its renewals."""
    events, stories = portfolio(source, seed)
    results = [
        assess_account(
            read_account(account_id, account_events),
            thresholds=settings.thresholds,
            half_life=settings.half_life,
            risk=settings.risk,
        )
        for account_id, account_events in sorted(group_events(events).items())
    ]
    backtest = run_backtest(
        (o for r in results for o in r.outcomes),
        (a for r in results for a in r.alerts),
        (n for r in results for n in r.nps),
        LOOKBACK,
    )
    scores = {rule.name: score for rule, score in backtest.scores}
    flagged_by: dict[tuple[str, datetime], set[str]] = defaultdict(set)
    for name, score in scores.items():
        for verdict in score.verdicts:
            if verdict.flagged:
                flagged_by[(verdict.renewal.account_id, verdict.renewal.at)].add(name)
    verdicts = tuple(
        (r.account_id, stories.get(r.account_id, "?"), r.bad, frozenset(flagged_by[(r.account_id, r.at)]))
        for r in backtest.renewals
    )
    outcome_of = {(r.account_id, r.at): r.bad for r in backtest.renewals}
    predictions = tuple(
        (p, outcome_of[(r.account_id, at)])
        for r in results
        for at, p in r.predictions
        if (r.account_id, at) in outcome_of
    )
    return SeedResult(
        source,
        seed,
        len(backtest.renewals),
        sum(1 for r in backtest.renewals if r.outcome in BAD_OUTCOMES),
        scores,
        verdicts,
        predictions,
        tuple(results) if keep else (),
    )


def score_many(
    jobs: Iterable[tuple[Source, int]], settings: Settings = Settings(), *, workers: int = 2
) -> list[SeedResult]:
    """Score several portfolios, ``workers`` processes at a time (the machine has two cores)."""
    jobs = list(jobs)
    if workers <= 1:
        return [score_seed(source, seed, settings) for source, seed in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(score_seed, source, seed, settings) for source, seed in jobs]
        return [f.result() for f in futures]


@dataclass(frozen=True, slots=True)
class Spread:
    """A figure over several portfolios: mean, standard deviation, minimum and maximum."""

    mean: float | None
    sd: float | None
    low: float | None
    high: float | None
    n: int

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Spread:
        """The spread of the values that exist (a seed where a figure is undefined is left out)."""
        held = [v for v in values if v is not None and math.isfinite(v)]
        if not held:
            return cls(None, None, None, None, 0)
        sd = statistics.stdev(held) if len(held) > 1 else 0.0
        return cls(statistics.fmean(held), sd, min(held), max(held), len(held))

    def text(self, fmt: Callable[[float], str]) -> str:
        """E.g. "0.62 ± 0.08 (0.48 to 0.77)"."""
        if self.mean is None or self.sd is None or self.low is None or self.high is None:
            return "n/a"
        return f"{fmt(self.mean)} ± {fmt(self.sd)} ({fmt(self.low)} to {fmt(self.high)})"


@dataclass(frozen=True, slots=True)
class RuleSummary:
    """One rule over a set of portfolios."""

    rule: str
    precision: Spread
    recall: Spread
    median_lead_days: Spread
    flags_per_bad: Spread


def summarise(results: Sequence[SeedResult]) -> list[RuleSummary]:
    """Each rule's figures over the portfolios, as mean and spread."""
    rows = []
    for rule in RULES:
        scores = [r.scores[rule.name] for r in results]
        rows.append(
            RuleSummary(
                rule.name,
                Spread.of(s.precision for s in scores),
                Spread.of(s.recall for s in scores),
                Spread.of(s.median_lead_days for s in scores),
                Spread.of(s.flagged / r.bad if r.bad else None for s, r in zip(scores, results, strict=True)),
            )
        )
    return rows


def base_rate(results: Sequence[SeedResult]) -> Spread:
    """The share of renewals that went badly, per portfolio."""
    return Spread.of(r.bad / r.renewals if r.renewals else None for r in results)


def by_story(results: Sequence[SeedResult], rules: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per story, pooled over the portfolios: renewals, bad share, and the share each rule flagged."""
    rows: dict[str, list[tuple[bool, frozenset[str]]]] = defaultdict(list)
    for result in results:
        for _, story, bad, flagged in result.verdicts:
            rows[story].append((bad, flagged))
    table: dict[str, dict[str, float]] = {}
    for story, items in sorted(rows.items()):
        n = len(items)
        table[story] = {"renewals": n, "bad": sum(1 for bad, _ in items if bad) / n}
        for rule in rules:
            table[story][rule] = sum(1 for _, flagged in items if rule in flagged) / n
    return table


def calibration(results: Sequence[SeedResult]) -> Calibration:
    """The risk's predictions pooled over the portfolios."""
    return calibrate([pair for r in results for pair in r.predictions])


def objective(summary: Mapping[str, RuleSummary], rule: str) -> float:
    """What tuning maximises for a rule: precision, with recall and lead held to the issue's floors."""
    row, nps = summary[rule], summary["nps_below_0"]
    precision, recall = row.precision.mean or 0.0, row.recall.mean or 0.0
    penalty = max(0.0, (nps.recall.mean or 0.0) - 0.05 - recall) * 3
    penalty += max(0.0, 90.0 - (row.median_lead_days.mean or 0.0)) / 100
    penalty += max(0.0, (row.flags_per_bad.mean or 0.0) - 2.0)
    return precision - penalty


def seed_examples(
    source: Source, seed: int, settings: Settings = Settings(), horizons: Sequence[timedelta] = DEFAULT_HORIZONS
) -> list[Example]:
    """One portfolio's renewals as fitting examples (the factors at each horizon before each)."""
    events, _ = portfolio(source, seed)
    return [
        example
        for account_id, account_events in sorted(group_events(events).items())
        for example in examples(
            read_account(account_id, account_events),
            thresholds=settings.thresholds,
            half_life=settings.half_life,
            risk=settings.risk,
            horizons=horizons,
        )
    ]


def many_examples(
    jobs: Iterable[tuple[Source, int]],
    settings: Settings = Settings(),
    horizons: Sequence[timedelta] = DEFAULT_HORIZONS,
) -> list[Example]:
    """Fitting examples of several portfolios, two processes at a time."""
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(seed_examples, source, seed, settings, horizons) for source, seed in jobs]
        return [example for f in futures for example in f.result()]
