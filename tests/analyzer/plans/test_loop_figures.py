"""The loop figures as pure computation: which steps count, from when, and what a plan closing the gap means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.analyzer.plans.loop import AlertFact, Duration, PlanFact, duration, loop_figures

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def alert(alert_id: str, *, ack: float | None = None, cleared_days: float | None = None) -> AlertFact:
    # Raised an hour after it opened in event time: the analyzer caught up late, which must not matter.
    opened = T0 - timedelta(hours=1)
    closed = None if cleared_days is None else opened + timedelta(days=cleared_days)
    return AlertFact(alert_id, T0, None if ack is None else hours(ack), opened, closed)


def plan(alert_id: str, made: float, status: str, done: float | None = None, closed: bool | None = None) -> PlanFact:
    return PlanFact(alert_id, hours(made), status, None if done is None else hours(done), closed)


def test_each_step_counts_from_the_alert_over_the_alerts_that_took_it() -> None:
    alerts = [alert("a", ack=2, cleared_days=10), alert("b", ack=6), alert("c")]
    plans = [
        plan("a", 4, "done", done=100, closed=True),
        # b: the first plan is abandoned (completes nothing), the second is done but not answered since.
        plan("b", 8, "abandoned", done=9),
        plan("b", 10, "done", done=50),
        plan("elsewhere", 1, "done", done=2, closed=False),
    ]
    found = loop_figures(alerts, plans)
    assert (found.alerts, found.acknowledged, found.planned, found.completed, found.recovered) == (3, 2, 2, 2, 1)
    assert found.to_acknowledge == Duration(2, 4.0, 4.0)
    assert found.to_plan == Duration(2, 6.0, 6.0)
    assert found.to_completion == Duration(2, 75.0, 75.0)
    assert found.to_recovery == Duration(1, 240.0, 240.0)
    assert (found.measured, found.closed, found.closed_share) == (1, 1, 1.0)


def test_the_latest_done_plan_read_decides_whether_the_gap_closed() -> None:
    plans = [plan("a", 1, "done", done=2, closed=True), plan("a", 3, "done", done=4, closed=False)]
    found = loop_figures([alert("a")], plans)
    assert (found.measured, found.closed, found.closed_share) == (1, 0, 0.0)


def test_nothing_taken_reads_as_no_figure_and_clocks_apart_read_as_zero() -> None:
    found = loop_figures([alert("a")], [])
    assert found.to_plan == Duration(0, None, None)
    assert found.closed_share is None
    assert duration([-30.0, 3600.0 * 3]) == Duration(2, 1.5, 1.5)
