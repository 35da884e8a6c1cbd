"""The four stories an account can follow, with their shares, sentiment paths and outcome odds.

Sentiment is on the NPS scale (0-10): the mean answer a person of a role would give on a day. A
person answers that mean plus their own offset plus noise (``generator``). Days are counted from the
start of the simulated year; ``renewal`` is the account's renewal day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ArchetypeName = Literal["aligned_healthy", "aligned_unhappy", "quietly_splitting", "recovering"]
Outcome = Literal["renewed", "downsized", "churned"]

# When a split starts and ends, in days before the renewal (the start never before day SPLIT_EARLIEST).
SPLIT_EARLIEST: Final = 10
SPLIT_FROM: Final = 270  # the split starts 9 months before the renewal ...
SPLIT_UNTIL: Final = 45  # ... and is complete six weeks before it
# The recovering accounts: the supplier acts this many days before the renewal, and IT has come back
# by RECOVERED_BY days before it.
RECOVERY_SPLIT_FROM: Final = 330  # their split starts 11 months before the renewal
ACTION_BEFORE: Final = 150
RECOVERED_BY: Final = 45
RECOVERED_IT: Final = 7.8


@dataclass(frozen=True, slots=True)
class Archetype:
    """One story: its share of the portfolio, its renewal days and the odds of each outcome."""

    name: ArchetypeName
    share: float
    summary: str
    renewal_days: tuple[int, int]  # the renewal falls on a day drawn uniformly in this range (inclusive)
    outcome_odds: tuple[tuple[Outcome, float], ...]


ARCHETYPES: Final[tuple[Archetype, ...]] = (
    Archetype(
        "aligned_healthy",
        0.40,
        "every role content (about 8.4 of 10), and so is the single score",
        (150, 360),
        (("renewed", 0.90), ("downsized", 0.07), ("churned", 0.03)),
    ),
    Archetype(
        "aligned_unhappy",
        0.20,
        "every role lukewarm to unhappy (about 5.6, end users 6.0), sliding by half a point over the year",
        (150, 360),
        (("renewed", 0.40), ("downsized", 0.25), ("churned", 0.35)),
    ),
    Archetype(
        "quietly_splitting",
        0.24,
        "procurement and the sponsor warm up while IT sours; finance and end users stay put; the mean is flat",
        (150, 360),
        (("renewed", 0.15), ("downsized", 0.50), ("churned", 0.35)),
    ),
    Archetype(
        "recovering",
        0.16,
        "the same split, complete when the supplier acts 150 days before renewal; then IT comes back",
        (270, 360),
        (("renewed", 0.85), ("downsized", 0.10), ("churned", 0.05)),
    ),
)
BY_NAME: Final = {a.name: a for a in ARCHETYPES}


def ramp(day: float, start: float, end: float) -> float:
    """0 before ``start``, 1 after ``end``, linear in between."""
    if day <= start:
        return 0.0
    if day >= end:
        return 1.0
    return (day - start) / (end - start)


def split_window(renewal: int) -> tuple[int, int]:
    """The days over which a splitting account's roles move apart."""
    return max(SPLIT_EARLIEST, renewal - SPLIT_FROM), renewal - SPLIT_UNTIL


def action_day(renewal: int) -> int:
    """The day a recovering account's supplier acts."""
    return renewal - ACTION_BEFORE


def sentiment(archetype: ArchetypeName, role: str, day: float, renewal: int) -> float:
    """The mean NPS answer of a client person of ``role`` on ``day`` (0-10)."""
    if archetype == "aligned_healthy":
        return 8.4
    if archetype == "aligned_unhappy":
        return (6.0 if role in ("end_user", "champion") else 5.6) - 0.5 * ramp(day, 0, 365)
    if archetype == "quietly_splitting":
        start, end = split_window(renewal)
        return _split(role, ramp(day, start, end))
    act = action_day(renewal)
    # The same split, but faster: complete when the supplier acts; then IT comes back.
    reached = _split(role, ramp(min(day, act), max(SPLIT_EARLIEST, renewal - RECOVERY_SPLIT_FROM), act))
    if role != "it" or day <= act:
        return reached
    return reached + (RECOVERED_IT - reached) * ramp(day, act + 14, renewal - RECOVERED_BY)


def _split(role: str, progress: float) -> float:
    """A splitting account's role means at ``progress`` (0: aligned, 1: fully split)."""
    start, end = {
        "procurement": (7.4, 9.6),
        "executive_sponsor": (8.0, 9.3),
        "it": (8.0, 3.2),
        "finance": (7.6, 7.6),
        "end_user": (8.2, 8.2),
        "champion": (8.6, 8.6),
    }[role]
    return start + (end - start) * progress
