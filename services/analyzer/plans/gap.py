"""The gap between an alert's two client roles when a plan was made and after its follow-up answers: pure.

Both readings are the model's own (docs/model.md, "Action plans: before and after"): each role's pooled
position and standard error, the gap ``high - low``, its standard error ``hypot(se_high, se_low)`` and its
lower bound ``gap - z*se``, the figure the divergence alerts are graded on. The change between the two
readings carries the standard error ``hypot(se_before, se_after)``; a narrowing counts only beyond it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.analyzer.model.positions import RolePosition


@dataclass(frozen=True, slots=True)
class GapReading:
    """The gap between two client roles at one time; ``se`` and ``lower`` are None without an error."""

    high_role: str
    low_role: str
    gap: float
    se: float | None
    lower: float | None
    as_of: datetime

    def as_dict(self) -> dict[str, Any]:
        """As stored with the plan and shown in its record."""
        return {
            "high_role": self.high_role,
            "low_role": self.low_role,
            "gap": round(self.gap, 4),
            "se": None if self.se is None else round(self.se, 4),
            "lower": None if self.lower is None else round(self.lower, 4),
            "as_of": self.as_of.isoformat(),
        }

    @classmethod
    def from_dict(cls, held: Mapping[str, Any]) -> GapReading:
        """Back from ``as_dict``."""
        return cls(
            high_role=str(held["high_role"]),
            low_role=str(held["low_role"]),
            gap=float(held["gap"]),
            se=None if held.get("se") is None else float(held["se"]),
            lower=None if held.get("lower") is None else float(held["lower"]),
            as_of=datetime.fromisoformat(str(held["as_of"])),
        )


@dataclass(frozen=True, slots=True)
class Comparison:
    """Before against after: the change (after - before), its standard error, and what it means."""

    change: float
    change_se: float | None
    # The gap narrowed by more than z standard errors of the change.
    narrowed: bool
    # The after's lower bound is below the level at which a divergence alert clears.
    closed: bool


def pair_gap(
    roles: Iterable[RolePosition], high_role: str, low_role: str, *, z: float, as_of: datetime
) -> GapReading | None:
    """The gap between two named client roles, None when either has no position."""
    found = {r.role: r for r in roles if r.side == "client"}
    high, low = found.get(high_role), found.get(low_role)
    if high is None or low is None:
        return None
    gap = high.position - low.position
    se = math.hypot(high.se, low.se)
    if not math.isfinite(se):
        return GapReading(high_role, low_role, gap, None, None, as_of)
    return GapReading(high_role, low_role, gap, se, gap - z * se, as_of)


def alert_pair(metrics: Mapping[str, Any]) -> tuple[str, str] | None:
    """The two roles an alert's figures name (``high_role``, ``low_role``), None when it names no pair."""
    high, low = metrics.get("high_role"), metrics.get("low_role")
    if isinstance(high, str) and isinstance(low, str) and high != low:
        return high, low
    return None


def compare(before: GapReading, after: GapReading, *, z: float, clear: float) -> Comparison:
    """What became of the gap: the change, whether it narrowed beyond the noise, whether it closed."""
    change = after.gap - before.gap
    change_se = math.hypot(before.se, after.se) if before.se is not None and after.se is not None else None
    narrowed = change_se is not None and -change - z * change_se > 0.0
    after_lower = after.lower if after.lower is not None else after.gap
    return Comparison(change=change, change_se=change_se, narrowed=narrowed, closed=after_lower < clear)


def _figure(reading: GapReading) -> str:
    noise = "" if reading.se is None else f" (±{reading.se:.2f})"
    return f"{reading.gap:.2f}{noise}"


def summary(before: GapReading | None, after: GapReading | None, comparison: Comparison | None, status: str) -> str:
    """E.g. "procurement-it gap 1.80 (±0.21) when the plan was made, 0.40 (±0.18) after the follow-up answers:
    narrowed beyond the noise, closed"."""
    if before is None:
        return "no gap between two roles was measured when the plan was made"
    said = f"{before.high_role}-{before.low_role} gap {_figure(before)} when the plan was made"
    if after is None or comparison is None:
        waiting = "waiting for the follow-up answers" if status == "done" else "the after comes once it is done"
        return f"{said}; {waiting}"
    verdict = "narrowed beyond the noise" if comparison.narrowed else "no change beyond the noise"
    closed = ", closed" if comparison.closed else ", still open"
    return f"{said}, {_figure(after)} after the follow-up answers: {verdict}{closed}"
