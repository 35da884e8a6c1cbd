"""Whether the renewal risk means what it says: predicted against observed, and the Brier score (pure).

A *prediction* is the account's renewal risk a horizon (90 days by default) before a renewal whose
outcome is known; it is *calibrated* when, among the renewals given about 30 %, about 30 % went badly.
The predictions are sorted and cut into (up to) ten groups of equal size, the deciles; each group
shows its mean prediction beside the share that went badly. The Brier score is the mean squared
difference between prediction and outcome (0 perfect; always saying the base rate b scores b(1 - b)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

GROUPS: Final = 10


@dataclass(frozen=True, slots=True)
class Group:
    """One decile of the predictions: how many, their mean, and the share that went badly."""

    renewals: int
    predicted: float
    observed: float


@dataclass(frozen=True, slots=True)
class Calibration:
    """The predictions against the outcomes."""

    renewals: int
    bad: int
    brier: float | None
    # Always predicting the base rate: the score a risk must beat to tell accounts apart.
    brier_base_rate: float | None
    groups: tuple[Group, ...]


def calibrate(pairs: Sequence[tuple[float, bool]], groups: int = GROUPS) -> Calibration:
    """Calibration of ``(predicted probability, went badly)`` pairs."""
    if not pairs:
        return Calibration(0, 0, None, None, ())
    ordered = sorted(pairs, key=lambda pair: pair[0])
    n = len(ordered)
    bad = sum(1 for _, outcome in ordered if outcome)
    base = bad / n
    brier = math.fsum((p - float(outcome)) ** 2 for p, outcome in ordered) / n
    count = min(groups, n)
    rows = []
    for k in range(count):
        chunk = ordered[k * n // count : (k + 1) * n // count]
        rows.append(
            Group(
                renewals=len(chunk),
                predicted=math.fsum(p for p, _ in chunk) / len(chunk),
                observed=sum(1 for _, outcome in chunk if outcome) / len(chunk),
            )
        )
    return Calibration(n, bad, brier, base * (1 - base), tuple(rows))
