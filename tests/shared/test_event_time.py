"""The time policy: the calendar the model computes with, and the configurable window inside it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shared.event_time import TimePolicy, calendar_error, date_error

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=23, minutes=59))),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1899, 12, 31, 23, 59, tzinfo=UTC),
        datetime(3000, 1, 1, tzinfo=UTC),
    ],
)
def test_times_outside_the_calendar_are_refused_without_raising(value: datetime) -> None:
    assert calendar_error(value) is not None


def test_the_calendar_holds_every_sane_time() -> None:
    assert calendar_error(datetime(1900, 1, 1, tzinfo=UTC)) is None
    assert calendar_error(datetime(2999, 12, 31, 23, 59, tzinfo=UTC)) is None
    assert date_error(date(2027, 2, 1)) is None
    assert date_error(date(9999, 12, 31)) is not None


def test_the_default_window_runs_from_2000_to_a_day_ahead() -> None:
    policy = TimePolicy()
    assert policy.violation(datetime(2000, 1, 1, tzinfo=UTC), NOW) is None
    assert policy.violation(NOW + timedelta(days=1), NOW) is None
    before = policy.violation(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), NOW)
    assert before is not None
    assert "before the earliest accepted 2000-01-01" in before
    ahead = policy.violation(NOW + timedelta(days=1, seconds=1), NOW)
    assert ahead is not None
    assert "more than 1 day ahead" in ahead


def test_the_window_is_configurable() -> None:
    policy = TimePolicy(earliest=datetime(1990, 1, 1, tzinfo=UTC), max_future=timedelta(days=30))
    assert policy.violation(datetime(1995, 1, 1, tzinfo=UTC), NOW) is None
    assert policy.violation(NOW + timedelta(days=29), NOW) is None
    assert policy.violation(NOW + timedelta(days=31), NOW) is not None
