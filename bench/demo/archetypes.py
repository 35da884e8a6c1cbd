"""The seven stories an account can follow, with their shares, sentiment paths and outcome odds.

Sentiment is on the NPS scale (0-10): the mean answer a person of a role would give on a day. A
person answers that mean plus their own lean plus noise (``generator``). Days are counted from the
start of the simulated year; ``renewal`` is the account's renewal day. Some stories single out one
or a few people of an account (the unhappy IT person, the cooling or silent decision makers): their
path is not their role's, so ``sentiment`` takes ``singled_out``.

The decision makers are procurement, finance and the executive sponsor (``DECISION_MAKERS``), as
the product counts them by default; IT is not one of them, though it is surveyed with them.

The shares and odds are chosen so that about 30% of the renewals go badly (downsized or churned) in
expectation: 0.42 x 10% (aligned_healthy) + 0.12 x 10% (unhappy_it_person) + 0.10 x 60%
(aligned_unhappy) + 0.10 x 85% (quietly_splitting) + 0.08 x 65% (decision_makers_cooling) + 0.06 x
70% (silent_decision_maker) + 0.12 x 15% (recovering) = 0.311; 50 accounts (21/6/5/5/4/3/6) expect
15.55 bad renewals. Two in three accounts are healthy (some with an unhappy IT person) or recover;
the four stories in which the decision makers are unhappy, turn or fall silent are a third of the
portfolio and make up three in four of the bad renewals (0.239 of 0.311).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

ArchetypeName = Literal[
    "aligned_healthy",
    "unhappy_it_person",
    "aligned_unhappy",
    "quietly_splitting",
    "decision_makers_cooling",
    "silent_decision_maker",
    "recovering",
]
Outcome = Literal["renewed", "downsized", "churned"]
DECISION_MAKERS: Final = ("procurement", "finance", "executive_sponsor")

HEALTHY: Final = 8.4  # every role of a healthy account
# When a split (or a cooling) starts and ends, in days before the renewal (the start never before
# day SPLIT_EARLIEST).
SPLIT_EARLIEST: Final = 10
SPLIT_FROM: Final = 270  # the split starts 9 months before the renewal ...
SPLIT_UNTIL: Final = 45  # ... and is complete six weeks before it
# The recovering accounts: the supplier acts this many days before the renewal, and IT has come back
# by RECOVERED_BY days before it.
RECOVERY_SPLIT_FROM: Final = 330  # their split starts 11 months before the renewal
ACTION_BEFORE: Final = 150
RECOVERED_BY: Final = 45
RECOVERED_IT: Final = 7.8
# The unhappy IT person of an otherwise healthy account.
UNHAPPY_IT: Final = 3.5
# The cooling decision makers: from COOLING_START to COOLING_END over the split window, while IT,
# the end users and the champion stay promoters and the sponsor (when not cooling) stays content.
COOLING_START: Final = 8.0
COOLING_END: Final = 4.2
COOLING_OTHERS: Final = {
    "procurement": 8.0,
    "finance": 8.0,
    "executive_sponsor": 8.2,
    "it": 8.8,
    "end_user": 8.8,
    "champion": 9.2,
}
# The silent decision makers answer nothing from SILENT_FROM to SILENT_UNTIL days before the renewal
# (five months); meanwhile their mood slides from SILENT_BEFORE to SILENT_AFTER, where it stays, and
# they answer again (badly) in the last SILENT_UNTIL days before the renewal.
SILENT_FROM: Final = 210
SILENT_UNTIL: Final = 60
SILENT_BEFORE: Final = 8.0
SILENT_AFTER: Final = 3.0


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
        0.42,
        "every role content (about 8.4 of 10), and so is the single score; 1 in 10 still downsizes or churns "
        "(budgets, mergers): 0.042 of the expected 0.31 bad share",
        (150, 360),
        (("renewed", 0.90), ("downsized", 0.07), ("churned", 0.03)),
    ),
    Archetype(
        "unhappy_it_person",
        0.12,
        "a healthy account (8.4) but for one IT person, unhappy all year (about 3.5 of 10): a trap, it renews "
        "as a healthy account does (bad 10%: 0.012 of the expected bad share)",
        (150, 360),
        (("renewed", 0.90), ("downsized", 0.07), ("churned", 0.03)),
    ),
    Archetype(
        "aligned_unhappy",
        0.10,
        "every role lukewarm to unhappy (about 5.6, end users 6.0), sliding by half a point over the year "
        "(bad 60%: 0.060)",
        (150, 360),
        (("renewed", 0.40), ("downsized", 0.25), ("churned", 0.35)),
    ),
    Archetype(
        "quietly_splitting",
        0.10,
        "procurement and the sponsor warm up while IT sours; finance and end users stay put; the mean is flat "
        "(bad 85%: 0.085)",
        (150, 360),
        (("renewed", 0.15), ("downsized", 0.50), ("churned", 0.35)),
    ),
    Archetype(
        "decision_makers_cooling",
        0.08,
        "procurement, finance or both drift down from 8.0 to 4.2 while IT and the users stay promoters and "
        "the mean stays green (bad 65%: 0.052)",
        (150, 360),
        (("renewed", 0.35), ("downsized", 0.40), ("churned", 0.25)),
    ),
    Archetype(
        "silent_decision_maker",
        0.06,
        "one or two decision makers stop answering for five months, then answer badly (about 3) in the last "
        "60 days before the renewal; everyone else content (bad 70%: 0.042)",
        (300, 360),
        (("renewed", 0.30), ("downsized", 0.30), ("churned", 0.40)),
    ),
    Archetype(
        "recovering",
        0.12,
        "the same split, complete when the supplier acts 150 days before renewal; then IT comes back (bad 15%: 0.018)",
        (270, 360),
        (("renewed", 0.85), ("downsized", 0.10), ("churned", 0.05)),
    ),
)
BY_NAME: Final = {a.name: a for a in ARCHETYPES}


def expected_bad_share() -> float:
    """The share of renewals expected to be downsized or churned, over the shares and odds above."""
    return sum(a.share * p for a in ARCHETYPES for outcome, p in a.outcome_odds if outcome != "renewed")


def ramp(day: float, start: float, end: float) -> float:
    """0 before ``start``, 1 after ``end``, linear in between."""
    if day <= start:
        return 0.0
    if day >= end:
        return 1.0
    return (day - start) / (end - start)


def split_window(renewal: int) -> tuple[int, int]:
    """The days over which a splitting account's roles move apart (and a cooling account's cool)."""
    return max(SPLIT_EARLIEST, renewal - SPLIT_FROM), renewal - SPLIT_UNTIL


def silence_window(renewal: int) -> tuple[int, int]:
    """The days, from the first to the one after the last, in which a silent decision maker answers nothing."""
    return renewal - SILENT_FROM, renewal - SILENT_UNTIL


def action_day(renewal: int) -> int:
    """The day a recovering account's supplier acts."""
    return renewal - ACTION_BEFORE


def sentiment(archetype: ArchetypeName, role: str, day: float, renewal: int, singled_out: bool = False) -> float:
    """The mean NPS answer of a client person of ``role`` on ``day`` (0-10).

    ``singled_out``: the person the story is about (the unhappy IT person, a cooling or a silent
    decision maker); it changes nothing in the other stories.
    """
    if archetype == "aligned_healthy":
        return HEALTHY
    if archetype == "unhappy_it_person":
        return UNHAPPY_IT if singled_out else HEALTHY
    if archetype == "aligned_unhappy":
        return (6.0 if role in ("end_user", "champion") else 5.6) - 0.5 * ramp(day, 0, 365)
    if archetype == "quietly_splitting":
        start, end = split_window(renewal)
        return _split(role, ramp(day, start, end))
    if archetype == "decision_makers_cooling":
        if not singled_out:
            return COOLING_OTHERS[role]
        start, end = split_window(renewal)
        return COOLING_START + (COOLING_END - COOLING_START) * ramp(day, start, end)
    if archetype == "silent_decision_maker":
        if not singled_out:
            return HEALTHY
        start, end = silence_window(renewal)
        return SILENT_BEFORE + (SILENT_AFTER - SILENT_BEFORE) * ramp(day, start, end)
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
