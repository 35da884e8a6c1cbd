"""The rules the backtest compares, and the whole backtest from plain rows (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

from services.analyzer.backtest.saves import saves
from services.analyzer.backtest.scoring import (
    OUTCOMES,
    NpsAnswer,
    Outcome,
    Renewal,
    RuleScore,
    Span,
    below_spans,
    nps_series,
    score_rule,
)

DIVERGENCE_ALERTS: Final = ("stakeholder_divergence", "divergence_widening", "masked_by_average")
RISK_ALERT: Final = "renewal_risk"
# The alert types whose spans the backtest reads.
SCORED_ALERTS: Final = (*DIVERGENCE_ALERTS, RISK_ALERT)
ANY_DIVERGENCE: Final = "any_divergence_alert"
# The rule a CRM should subscribe to: the one the held-out backtest supports (docs/model.md).
RECOMMENDED: Final = RISK_ALERT
NPS_BELOW_0: Final = "nps_below_0"
NPS_BELOW_MINUS_20: Final = "nps_below_-20"


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of the comparison."""

    name: str
    kind: Literal["risk_alert", "divergence_alert", "classic"]
    description: str


RULES: Final[tuple[Rule, ...]] = (
    Rule(
        RISK_ALERT, "risk_alert", "a renewal_risk alert was open (the account's renewal risk at or above its threshold)"
    ),
    Rule("stakeholder_divergence", "divergence_alert", "a stakeholder_divergence alert was open"),
    Rule("divergence_widening", "divergence_alert", "a divergence_widening alert was open"),
    Rule("masked_by_average", "divergence_alert", "a masked_by_average alert was open"),
    Rule(ANY_DIVERGENCE, "divergence_alert", "any of the three divergence alerts was open"),
    Rule(NPS_BELOW_0, "classic", "the account NPS (latest answer per client person) was below 0"),
    Rule(NPS_BELOW_MINUS_20, "classic", "the account NPS was below -20 (the usual 'at risk' line)"),
)
CLASSIC_LINES: Final = {NPS_BELOW_0: 0.0, NPS_BELOW_MINUS_20: -20.0}


@dataclass(frozen=True, slots=True)
class Backtest:
    """Every rule scored over the renewals with a known outcome."""

    lookback: timedelta
    renewals: tuple[Renewal, ...]
    unknown_outcomes: int  # renewal_outcome moments without a known attributes.outcome, left out
    scores: tuple[tuple[Rule, RuleScore], ...]
    # Per rule, the flagged renewed renewals a plan done before recovery saved (saves.py); empty without plans.
    saves: Mapping[str, frozenset[Renewal]] = field(default_factory=dict)

    def saves_of(self, rule: str) -> frozenset[Renewal]:
        """The rule's saves (none for a rule without any)."""
        return self.saves.get(rule, frozenset())

    def outcome_counts(self) -> dict[str, int]:
        """How many renewals ended in each outcome."""
        return {outcome: sum(1 for r in self.renewals if r.outcome == outcome) for outcome in OUTCOMES}


def known_renewals(outcomes: Iterable[tuple[str, datetime, object]]) -> tuple[list[Renewal], int]:
    """The renewals whose ``outcome`` is one of ``OUTCOMES``, and how many were left out."""
    known: list[Renewal] = []
    unknown = 0
    for account_id, at, outcome in outcomes:
        if isinstance(outcome, str) and outcome in OUTCOMES:
            known.append(Renewal(account_id, at, _outcome(outcome)))
        else:
            unknown += 1
    return known, unknown


def _outcome(value: str) -> Outcome:
    for outcome in OUTCOMES:
        if outcome == value:
            return outcome
    raise ValueError(value)


def alert_rule_spans(alerts: Iterable[tuple[str, str, datetime, datetime | None]]) -> dict[str, dict[str, list[Span]]]:
    """Spans per rule and account from ``(account_id, type, opened, closed)``, plus the union rule."""
    spans: dict[str, dict[str, list[Span]]] = {name: defaultdict(list) for name in (*SCORED_ALERTS, ANY_DIVERGENCE)}
    for account_id, alert_type, opened, closed in alerts:
        if alert_type in SCORED_ALERTS:
            spans[alert_type][account_id].append(Span(opened, closed))
        if alert_type in DIVERGENCE_ALERTS:
            spans[ANY_DIVERGENCE][account_id].append(Span(opened, closed))
    return spans


def classic_rule_spans(answers: Iterable[tuple[str, NpsAnswer]]) -> dict[str, dict[str, list[Span]]]:
    """Spans per classic rule and account from each account's client NPS answers."""
    by_account: dict[str, list[NpsAnswer]] = defaultdict(list)
    for account_id, answer in answers:
        by_account[account_id].append(answer)
    series = {account_id: nps_series(held) for account_id, held in by_account.items()}
    return {
        name: {account_id: below_spans(points, line) for account_id, points in series.items()}
        for name, line in CLASSIC_LINES.items()
    }


def run_backtest(
    outcomes: Iterable[tuple[str, datetime, object]],
    alerts: Iterable[tuple[str, str, datetime, datetime | None]],
    answers: Iterable[tuple[str, NpsAnswer]],
    lookback: timedelta,
    plans_done: Mapping[str, Sequence[datetime]] | None = None,
) -> Backtest:
    """Score every rule of ``RULES`` over the known renewals; ``plans_done``: per account, when its action
    plans were done (event time), for the saves."""
    renewals, unknown = known_renewals(outcomes)
    spans: Mapping[str, Mapping[str, Sequence[Span]]] = {**alert_rule_spans(alerts), **classic_rule_spans(answers)}
    scores = tuple((rule, score_rule(rule.name, renewals, spans[rule.name], lookback)) for rule in RULES)
    done = plans_done or {}
    saved = {rule.name: saves(score, spans[rule.name], done, lookback) for rule, score in scores} if done else {}
    return Backtest(lookback, tuple(sorted(renewals, key=lambda r: (r.at, r.account_id))), unknown, scores, saved)
