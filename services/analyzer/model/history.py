"""An account's figures per calendar bucket (day, week, month), recomputed from the held answers.

Pure: the caller hands in the answers (sorted by time) and who is who; every bucket is the account as
of its end, exact whatever order the answers arrived in. The number of buckets is bounded
(``MAX_HISTORY_BUCKETS``) so that one request cannot ask for decades of days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal

from services.analyzer.model.answers import HeldAnswer
from services.analyzer.model.decay import EMPTY, DecayedState, add
from services.analyzer.model.divergence import divergence
from services.analyzer.model.positions import RolePosition, Side, account_mean
from services.analyzer.model.snapshot import StakeholderRecord, build_snapshot
from services.analyzer.model.thresholds import Thresholds

Bucket = Literal["day", "week", "month"]
MAX_HISTORY_BUCKETS: Final = 1000


@dataclass(frozen=True, slots=True)
class Person:
    """The directory facts a history needs about one person."""

    role: str
    side: Side
    influence: float


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """The account as of the end of one bucket."""

    bucket_start: date
    as_of: datetime
    roles: tuple[RolePosition, ...]
    account_mean: float | None
    divergence: float | None


class HistoryTooLong(ValueError):
    """The requested span holds more buckets than one request may return."""


def bucket_start(day: date, bucket: Bucket) -> date:
    """The first day of the bucket holding ``day`` (weeks start on Monday)."""
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: date, bucket: Bucket) -> date:
    """The first day of the bucket after the one starting on ``start``."""
    if bucket == "week":
        return start + timedelta(days=7)
    if bucket == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def bucket_count(first: date, last: date, bucket: Bucket) -> int:
    """How many buckets span ``first`` to ``last`` (both included)."""
    start, end = bucket_start(first, bucket), bucket_start(last, bucket)
    if bucket == "month":
        return (end.year - start.year) * 12 + end.month - start.month + 1
    return (end - start).days // (7 if bucket == "week" else 1) + 1


def history(
    answers: Sequence[HeldAnswer],
    people: Mapping[str, Person],
    *,
    bucket: Bucket,
    first: date,
    last: datetime,
    thresholds: Thresholds,
    half_life: timedelta,
    max_buckets: int = MAX_HISTORY_BUCKETS,
) -> list[HistoryPoint]:
    """Each bucket from the one holding ``first`` to the one holding ``last``, as of its end.

    ``answers`` must be sorted by time; those before ``first`` still count (they are folded in
    before the first bucket). Raises ``HistoryTooLong`` past ``max_buckets``.
    """
    count = bucket_count(first, last.date(), bucket)
    if count > max_buckets:
        raise HistoryTooLong(
            f"the history spans {count} {bucket}s and at most {max_buckets} are returned per request; "
            "narrow it with since/until or ask for a larger bucket",
        )
    unknown = Person(role="unassigned", side="client", influence=1.0)
    states: dict[str, DecayedState] = {}
    index = 0
    start = bucket_start(first, bucket)
    points = []
    for _ in range(count):
        end = datetime.combine(next_bucket(start, bucket), time.min, tzinfo=UTC)
        while index < len(answers) and answers[index].answer.at < end:
            held = answers[index]
            states[held.stakeholder_id] = add(states.get(held.stakeholder_id, EMPTY), held.answer, half_life)
            index += 1
        as_of = min(end - timedelta(microseconds=1), last)
        records = [
            StakeholderRecord(
                stakeholder_id=sid,
                role=people.get(sid, unknown).role,
                side=people.get(sid, unknown).side,
                influence=people.get(sid, unknown).influence,
                state=state,
            )
            for sid, state in sorted(states.items())
        ]
        snap = build_snapshot(
            account_id="", as_of=as_of, stakeholders=records, thresholds=thresholds, half_life=half_life
        )
        split = divergence(snap.roles, min_confidence=thresholds.min_role_confidence)
        points.append(
            HistoryPoint(
                bucket_start=start,
                as_of=as_of,
                roles=snap.roles,
                account_mean=account_mean(snap.roles),
                divergence=split.gap if split else None,
            ),
        )
        start = next_bucket(start, bucket)
    return points
