"""Calendar quarters: their labels, bounds and the last few before a time (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    """One calendar quarter, e.g. 2026-Q2."""

    year: int
    number: int

    @property
    def label(self) -> str:
        """``2026-Q2``."""
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        """Its first day."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> datetime:
        """Its last instant (UTC)."""
        nxt = self.next().start
        return datetime.combine(nxt, time.min, tzinfo=UTC) - timedelta(microseconds=1)

    def next(self) -> Quarter:
        """The quarter after it."""
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        """The quarter before it."""
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)


def quarter_of(day: date) -> Quarter:
    """The quarter holding ``day``."""
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def last_quarters(latest: datetime, count: int) -> list[Quarter]:
    """The ``count`` quarters up to and including the one holding ``latest``, oldest first."""
    if count < 1:
        raise ValueError("count must be at least 1")
    found = [quarter_of(latest.astimezone(UTC).date())]
    while len(found) < count:
        found.append(found[-1].previous())
    return found[::-1]


def as_of(quarter: Quarter, latest: datetime) -> datetime:
    """When a quarter is read: its end, or ``latest`` for the quarter still running."""
    return min(quarter.end, latest)
