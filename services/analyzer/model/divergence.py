"""How far the client roles stand apart: the widest gap, the spread across people, and its trend.

Trend and baselines read a series of recorded points ``(time, value)`` that the caller keeps (one
point per evaluation or per day is enough). The series is a step function: a value holds from its
time until the next point. Only points inside the trailing window and the last one before it are
ever read, so the caller may prune everything older and per-event cost stays bounded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.analyzer.model.positions import UNASSIGNED, RolePosition, StakeholderPosition
from services.analyzer.model.thresholds import reaches

Point = tuple[datetime, float]


@dataclass(frozen=True, slots=True)
class Divergence:
    """The widest gap between two client roles with enough confidence, the roles spanning it, and
    how much of it survives the noise: ``lower`` = gap - z·se, the lower end of its interval."""

    gap: float
    high: RolePosition
    low: RolePosition
    roles_counted: int
    se: float
    lower: float


def _pair(high: RolePosition, low: RolePosition, z: float, counted: int) -> Divergence:
    se = math.hypot(high.se, low.se)
    gap = high.position - low.position
    # z = 0 takes the gap as measured exactly, even without a standard error (0 x inf is no number).
    lower = gap if z == 0.0 else gap - z * se
    return Divergence(gap=gap, high=high, low=low, roles_counted=counted, se=se, lower=lower)


def divergence(roles: Iterable[RolePosition], *, min_confidence: float, z: float = 0.0) -> Divergence | None:
    """The pair of client roles (confidence ≥ ``min_confidence``) whose gap best survives the noise.

    Over every ordered pair, the one with the largest lower bound ``gap - z·se`` (``se`` from the two
    roles' standard errors); with ``z`` = 0 or equal errors that is max - min. Choosing by the lower
    bound keeps the widest of many noisy roles from passing for a split by chance alone.

    None when fewer than two roles qualify: one voice cannot diverge, and an unmeasurable split is
    not the same as agreement. Ties are broken by role name so the reported pair is deterministic.
    """
    counted = sorted(
        (r for r in roles if r.side == "client" and reaches(r.confidence, min_confidence)),
        key=lambda r: (r.position, r.role),
    )
    if len(counted) < 2:
        return None
    best = _pair(counted[-1], counted[0], z, len(counted))
    if z == 0.0:
        return best
    for i, low in enumerate(counted):
        for high in counted[i + 1 :]:
            candidate = _pair(high, low, z, len(counted))
            if candidate.lower > best.lower + 1e-12:
                best = candidate
    return best


def dispersion(stakeholders: Iterable[StakeholderPosition]) -> float | None:
    """Weighted standard deviation of client stakeholders' positions (weights confidence x influence)."""
    points = [
        (p.confidence * p.influence, p.position)
        for p in stakeholders
        if p.side == "client" and p.role != UNASSIGNED and p.position is not None
    ]
    total = math.fsum(w for w, _ in points)
    if total <= 0.0:
        return None
    mean = math.fsum(w * x for w, x in points) / total
    # Population form: this is the spread of these people, not an estimate for a wider population.
    return math.sqrt(math.fsum(w * (x - mean) ** 2 for w, x in points) / total)


def value_at(series: Iterable[Point], at: datetime) -> Point | None:
    """The point in force at ``at``: the latest one at or before it (None if the series starts later)."""
    best: Point | None = None
    for point in series:
        if point[0] <= at and (best is None or point[0] >= best[0]):
            best = point
    return best


def baseline(series: Sequence[Point], *, now: datetime, window: timedelta) -> Point | None:
    """The value to compare ``now`` against: the one in force at ``now - window``.

    None while the series is younger than the window: the first weeks of an account rest on one or
    two answers per role and swing widely, so "grew within the window" needs a full window of history.
    """
    return value_at(series, now - window)


def trend(current: float, series: Sequence[Point], *, now: datetime, window: timedelta) -> float | None:
    """``current`` minus the baseline ``window`` ago; > 0 means separating, < 0 converging."""
    start = baseline(series, now=now, window=window)
    return None if start is None else current - start[1]


def peak_within(series: Sequence[Point], *, now: datetime, window: timedelta) -> Point | None:
    """The highest value held at any time within [now - window, now], with when it was held.

    The value in force at the window's start counts, dated at the start: it was held then.
    """
    start = value_at(series, now - window)
    candidates = [p for p in series if now - window < p[0] <= now]
    if start is not None:
        candidates.append((now - window, start[1]))
    # Among equal values prefer the latest, so a drop is dated from the last time the peak held.
    return max(candidates, key=lambda p: (p[1], p[0])) if candidates else None
