"""``python -m bench.backtest`` (``make backtest``): every rule over held-out portfolios, with spreads.

Replays the held-out seeds of the demo generator and the seeds of the independent generator through
the analyzer's model (offline, the same code as the live path) and prints, per rule, precision,
recall, median lead and flags per bad renewal as mean ± standard deviation (min to max) over the
portfolios, the same per story, and the calibration of the renewal risk. ``--tuning`` prints the
seeds the defaults were tuned on instead (never the figures to quote).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from bench.backtest.run import (
    HELD_OUT_SEEDS,
    INDEPENDENT_SEEDS,
    LOOKBACK,
    TUNING_SEEDS,
    SeedResult,
    Source,
    base_rate,
    by_story,
    calibration,
    score_many,
    summarise,
)
from services.analyzer.backtest.rules import RECOMMENDED

STORY_RULES = ("renewal_risk", "stakeholder_divergence", "nps_below_0")


def _pct(value: float) -> str:
    return f"{value:.2f}"


def _days(value: float) -> str:
    return f"{value:.0f}"


def table(title: str, results: Sequence[SeedResult]) -> list[str]:
    """The printed block for one set of portfolios."""
    lines = [
        f"## {title}: {len(results)} portfolios, {sum(r.renewals for r in results)} renewals, "
        f"bad share {base_rate(results).text(_pct)}",
        "",
        "| rule | precision | recall | median lead (days) | flags per bad renewal |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in summarise(results):
        name = f"**{row.rule}** (recommended)" if row.rule == RECOMMENDED else row.rule
        lines.append(
            f"| {name} | {row.precision.text(_pct)} | {row.recall.text(_pct)} | "
            f"{row.median_lead_days.text(_days)} | {row.flags_per_bad.text(lambda v: f'{v:.1f}')} |"
        )
    lines += ["", "Per story (pooled): renewals, share bad, share each rule flagged", ""]
    lines.append("| story | renewals | bad | " + " | ".join(STORY_RULES) + " |")
    lines.append("| --- | --- | --- |" + " --- |" * len(STORY_RULES))
    for story, shares in by_story(results, STORY_RULES).items():
        flagged = " | ".join(f"{shares[rule]:.2f}" for rule in STORY_RULES)
        lines.append(f"| {story} | {shares['renewals']:.0f} | {shares['bad']:.2f} | {flagged} |")
    fit = calibration(results)
    if fit.brier is not None and fit.brier_base_rate is not None:
        lines += [
            "",
            f"Renewal risk 90 days before each renewal, {fit.renewals} renewals: Brier {fit.brier:.3f} "
            f"(always the base rate: {fit.brier_base_rate:.3f})",
            "",
            "| decile | renewals | predicted | observed |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {k} | {g.renewals} | {g.predicted:.2f} | {g.observed:.2f} |" for k, g in enumerate(fit.groups, start=1)
        ]
    return [*lines, ""]


def summary_json(results: Sequence[SeedResult]) -> dict[str, object]:
    """The figures of one set of portfolios as JSON (for docs and charts)."""
    return {
        "portfolios": len(results),
        "renewals": sum(r.renewals for r in results),
        "base_rate": asdict(base_rate(results)),
        "rules": {row.rule: asdict(row) for row in summarise(results)},
        "stories": by_story(results, STORY_RULES),
        "calibration": asdict(calibration(results)),
    }


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.backtest", description=__doc__)
    parser.add_argument("--tuning", action="store_true", help="score the tuning seeds instead of the held-out ones")
    parser.add_argument("--only", choices=("demo", "independent"), help="one generator only")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the backtest and print the tables."""
    args = parse(argv)
    sets: list[tuple[str, Source, tuple[int, ...]]] = []
    if args.only in (None, "demo"):
        seeds = TUNING_SEEDS if args.tuning else HELD_OUT_SEEDS
        label = "tuning" if args.tuning else "held-out"
        sets.append((f"Demo generator, {label} seeds {seeds[0]}-{seeds[-1]}", "demo", seeds))
    if args.only in (None, "independent") and not args.tuning:
        sets.append(
            (
                f"Independent generator, seeds {INDEPENDENT_SEEDS[0]}-{INDEPENDENT_SEEDS[-1]}",
                "independent",
                INDEPENDENT_SEEDS,
            )
        )
    print(f"Backtest: lookback {LOOKBACK.days} days; mean ± standard deviation (min to max) over portfolios.\n")
    report: dict[str, object] = {}
    for title, source, seeds in sets:
        started = time.monotonic()
        results = score_many(((source, seed) for seed in seeds), workers=args.workers)
        print("\n".join(table(title, results)))
        print(f"({time.monotonic() - started:.0f} s)\n", flush=True)
        report[source] = summary_json(results)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
