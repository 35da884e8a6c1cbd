"""History buckets as a pure function: bounded in count, exact from the held answers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.analyzer.model import DEFAULT_HALF_LIFE, DEFAULT_THRESHOLDS, Answer, HeldAnswer
from services.analyzer.model.history import HistoryTooLong, Person, bucket_count, history


def held(stakeholder_id: str, at: datetime, value: float) -> HeldAnswer:
    return HeldAnswer.of(
        Answer(value, at, f"{stakeholder_id}-{at.isoformat()}"), stakeholder_id=stakeholder_id, dimension=None
    )


@pytest.mark.parametrize(
    ("first", "last", "bucket", "count"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), "day", 1),
        (date(2026, 1, 1), date(2026, 12, 31), "day", 365),
        (date(2026, 1, 4), date(2026, 1, 5), "week", 2),  # Sunday, then Monday
        (date(2026, 1, 31), date(2026, 3, 1), "month", 3),
        (date(2000, 1, 1), date(2026, 11, 27), "month", 323),
    ],
)
def test_bucket_count(first: date, last: date, bucket: str, count: int) -> None:
    assert bucket_count(first, last, bucket) == count  # type: ignore[arg-type]


def test_too_many_buckets_is_refused_before_any_work() -> None:
    with pytest.raises(HistoryTooLong, match="spans 9826 days"):
        history(
            [],
            {},
            bucket="day",
            first=date(2000, 1, 3),
            last=datetime(2026, 11, 27, tzinfo=UTC),
            thresholds=DEFAULT_THRESHOLDS,
            half_life=DEFAULT_HALF_LIFE,
        )


def test_answers_before_the_first_bucket_still_count() -> None:
    people = {"a": Person("it", "client", 1.0), "b": Person("finance", "client", 1.0)}
    answers = [held("a", datetime(2026, 1, 5, tzinfo=UTC), 0.8), held("b", datetime(2026, 1, 6, tzinfo=UTC), -0.6)]
    common = {"thresholds": DEFAULT_THRESHOLDS, "half_life": DEFAULT_HALF_LIFE}
    last = datetime(2026, 3, 1, tzinfo=UTC)
    full = history(answers, people, bucket="week", first=date(2026, 1, 5), last=last, **common)  # type: ignore[arg-type]
    late = history(answers, people, bucket="week", first=date(2026, 2, 2), last=last, **common)  # type: ignore[arg-type]
    assert late[0].bucket_start == date(2026, 2, 2)
    assert late == [p for p in full if p.bucket_start >= date(2026, 2, 2)]
    assert late[0].divergence == pytest.approx(1.4)
