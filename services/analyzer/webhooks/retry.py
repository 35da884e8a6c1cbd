"""When to try a failed delivery again: the bounded schedule with jitter, and the receiver's ``Retry-After``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def next_delay(
    step: int,
    schedule: Sequence[float],
    *,
    jitter: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before retry number ``step + 1``, or None once the schedule is used up.

    The wait is the schedule's value scaled by a uniform factor in ``[1 - jitter, 1 + jitter]``: retries of
    many deliveries that failed together spread out, while the total stays the documented schedule on
    average (full jitter, ``uniform(0, value)``, would halve it and allow near-immediate retries). A
    receiver's ``Retry-After`` is honoured as a minimum.
    """
    if step >= len(schedule):
        return None
    factor = 1.0 + (rng or random).uniform(-jitter, jitter)
    delay = max(0.0, schedule[step] * factor)
    return max(delay, retry_after) if retry_after is not None else delay


def parse_retry_after(value: str | None, *, now: datetime, cap_s: float) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), capped at ``cap_s``."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), cap_s)
