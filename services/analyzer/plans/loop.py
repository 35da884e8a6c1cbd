"""The loop figures: how quickly alerts are acknowledged, planned, completed and recovered, and how often a
plan closed the gap (docs/model.md, "Closing the loop"): pure.

Every time is counted from the alert's opening. The steps people take (acknowledge, plan, complete) are
on the wall clock, from when the analyzer raised the alert (``created_at``); recovery is the model's own
step and is in event time, from ``opened_as_of`` to the moment the alert's condition cleared
(``closed_as_of``), like the backtest's flags. A step not taken yet is left out of its duration, never
counted as zero.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

# An alignment_restored alert is the news of a recovery, not a problem to act on.
NOT_ACTED_ON: Final = frozenset({"alignment_restored"})
HOUR_S: Final = 3600.0


@dataclass(frozen=True, slots=True)
class AlertFact:
    """What the loop figures need of one alert."""

    alert_id: str
    created_at: datetime
    acknowledged_at: datetime | None
    opened_as_of: datetime
    closed_as_of: datetime | None


@dataclass(frozen=True, slots=True)
class PlanFact:
    """What the loop figures need of one plan; ``closed``: its after reading closed the gap (None: not read yet)."""

    alert_id: str
    created_at: datetime
    status: str
    completed_at: datetime | None
    closed: bool | None


@dataclass(frozen=True, slots=True)
class Duration:
    """How long one step took over the alerts that took it: how many, median and mean, in hours."""

    alerts: int
    median_hours: float | None
    mean_hours: float | None


@dataclass(frozen=True, slots=True)
class LoopFigures:
    """An account's or the portfolio's loop.

    ``measured``: alerts with a done plan whose after was read (the plan's roles answered since it was done);
    ``closed``: those whose after closed the gap; ``closed_share`` = closed / measured, None without any.
    """

    alerts: int
    acknowledged: int
    planned: int
    completed: int
    recovered: int
    to_acknowledge: Duration
    to_plan: Duration
    to_completion: Duration
    to_recovery: Duration
    measured: int
    closed: int
    closed_share: float | None


def duration(spans_s: Sequence[float]) -> Duration:
    """The spans (seconds; a negative one, from clocks apart, reads as zero) as a count, median and mean in hours."""
    hours = [max(0.0, s) / HOUR_S for s in spans_s]
    if not hours:
        return Duration(0, None, None)
    return Duration(len(hours), round(statistics.median(hours), 2), round(statistics.fmean(hours), 2))


def _since(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds()


def loop_figures(alerts: Iterable[AlertFact], plans: Iterable[PlanFact]) -> LoopFigures:
    """The loop over these alerts and the plans made on them (plans of other alerts are ignored).

    Per alert: acknowledged when someone acknowledged it; planned at its first plan; completed when its
    first plan reached ``done`` (an abandoned plan completes nothing); recovered when its condition
    cleared; closed when its latest done plan's after reading closed the gap.
    """
    held = sorted(alerts, key=lambda a: a.alert_id)
    by_alert: dict[str, list[PlanFact]] = {}
    for plan in sorted(plans, key=lambda p: p.created_at):
        by_alert.setdefault(plan.alert_id, []).append(plan)
    acknowledge: list[float] = []
    plan_spans: list[float] = []
    complete: list[float] = []
    recover: list[float] = []
    measured = closed = 0
    for alert in held:
        if (span := _since(alert.created_at, alert.acknowledged_at)) is not None:
            acknowledge.append(span)
        made = by_alert.get(alert.alert_id, [])
        if made:
            plan_spans.append((made[0].created_at - alert.created_at).total_seconds())
        done = [p for p in made if p.status == "done" and p.completed_at is not None]
        if done and (span := _since(alert.created_at, done[0].completed_at)) is not None:
            complete.append(span)
        if (span := _since(alert.opened_as_of, alert.closed_as_of)) is not None:
            recover.append(span)
        read = [p for p in done if p.closed is not None]
        if read:
            measured += 1
            closed += read[-1].closed is True
    return LoopFigures(
        alerts=len(held),
        acknowledged=len(acknowledge),
        planned=len(plan_spans),
        completed=len(complete),
        recovered=len(recover),
        to_acknowledge=duration(acknowledge),
        to_plan=duration(plan_spans),
        to_completion=duration(complete),
        to_recovery=duration(recover),
        measured=measured,
        closed=closed,
        closed_share=round(closed / measured, 4) if measured else None,
    )
