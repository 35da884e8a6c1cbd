"""What counts as a save (pure): a renewed account, flagged, a plan done in the window, then the flag cleared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.analyzer.backtest.saves import saved
from services.analyzer.backtest.scoring import Renewal, Span

RENEWAL = datetime(2026, 6, 1, tzinfo=UTC)
START = RENEWAL - timedelta(days=180)


def day(n: int) -> datetime:
    return START + timedelta(days=n)


def test_a_plan_done_while_flagged_before_the_flag_cleared_is_a_save() -> None:
    assert saved(Renewal("a", RENEWAL, "renewed"), [Span(day(10), day(90))], [day(40)], START)


def test_no_save_without_recovery_a_later_plan_a_plan_before_the_window_or_a_bad_outcome() -> None:
    flagged = [Span(day(10), day(90))]
    renewed = Renewal("a", RENEWAL, "renewed")
    assert not saved(renewed, [Span(day(10), None)], [day(40)], START)  # still flagged at the renewal
    assert not saved(renewed, [*flagged, Span(day(120), day(200))], [day(40)], START)  # flagged again at it
    assert not saved(renewed, flagged, [day(95)], START)  # the plan came after the recovery
    assert not saved(renewed, flagged, [START - timedelta(days=1)], START)  # before the window
    assert not saved(renewed, [], [day(40)], START)  # never flagged
    assert not saved(Renewal("a", RENEWAL, "churned"), flagged, [day(40)], START)


def test_the_last_span_in_the_window_is_the_recovery() -> None:
    spans = [Span(day(10), day(30)), Span(day(50), day(100))]
    assert saved(Renewal("a", RENEWAL, "renewed"), spans, [day(60)], START)
