"""The time policy at the edge: which event times the system accepts.

Two layers. The event schemas refuse any time outside the calendar the model can compute with
(``CALENDAR_START`` to ``CALENDAR_END``): without that, a time such as ``9999-12-31T23:59:59-23:59``
is valid RFC 3339 but overflows as soon as it is converted to UTC. Inside that calendar,
``TimePolicy`` narrows the window to what is plausible for feedback (by default not before 2000 and
not more than a day ahead of the clock): ingest and every vendor webhook answer 422 naming the field,
and the analyzer dead-letters a record from the topic that breaks it, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

# Wide enough for any sane policy, far enough from datetime's limits (years 1 and 9999) that no
# window or half-life arithmetic of the model can overflow.
CALENDAR_START: Final = datetime(1900, 1, 1, tzinfo=UTC)
CALENDAR_END: Final = datetime(3000, 1, 1, tzinfo=UTC)

DEFAULT_EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_MAX_FUTURE: Final = timedelta(days=1)


def calendar_error(value: datetime) -> str | None:
    """Why ``value`` lies outside the calendar the model computes with, or None."""
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        return "is out of range: it cannot be expressed in UTC"
    if not CALENDAR_START <= utc < CALENDAR_END:
        return f"must lie between {CALENDAR_START.year} and {CALENDAR_END.year - 1}"
    return None


def date_error(value: date) -> str | None:
    """Why a calendar date lies outside the calendar the model computes with, or None."""
    if not CALENDAR_START.date() <= value < CALENDAR_END.date():
        return f"must lie between {CALENDAR_START.year} and {CALENDAR_END.year - 1}"
    return None


@dataclass(frozen=True, slots=True)
class TimePolicy:
    """The window of event times accepted: from ``earliest`` to ``max_future`` ahead of now."""

    earliest: datetime = DEFAULT_EARLIEST
    max_future: timedelta = DEFAULT_MAX_FUTURE

    def violation(self, occurred_at: datetime, now: datetime) -> str | None:
        """Why ``occurred_at`` is refused at ``now``, or None when it is accepted."""
        if (reason := calendar_error(occurred_at)) is not None:
            return f"occurred_at {reason}"
        if occurred_at < self.earliest:
            return f"occurred_at {occurred_at.isoformat()} is before the earliest accepted {self.earliest.isoformat()}"
        latest = now + self.max_future
        if occurred_at > latest:
            return (
                f"occurred_at {occurred_at.isoformat()} is more than {_duration(self.max_future)} "
                f"ahead of the server clock ({now.isoformat(timespec='seconds')})"
            )
        return None


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 86_400 == 0:
        days = seconds // 86_400
        return f"{days} day" + ("s" if days != 1 else "")
    return f"{seconds} s"
