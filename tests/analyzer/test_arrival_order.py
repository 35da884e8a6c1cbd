"""Alerts are a function of the events, not of the order they arrive in (docs/model.md, "Event time").

The worked example's two accounts (a year and a half of answers, renewal moments, a directory) are
applied through the analyzer's real processing on a real database in several arrival orders, cut
into consumer batches of several sizes: time order, grouped by respondent (how a survey export is
typically ordered), reversed, and shuffled. Every order must end with the same alerts: ids, types,
keys, severities, statuses, opened and resolved as-of times and figures.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from services.analyzer.db.models import AlertRow
from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.model import story
from tests.e2e.test_story import canonical
from tests.harness.databases import create_database

Body = dict[str, Any]


def story_events() -> list[Body]:
    """Both accounts of the worked example, directory first, in event-time order."""
    return canonical("divided-co", story.divided_events()) + canonical("aligned-co", story.aligned_events())


def time_order(events: list[Body]) -> list[Body]:
    return sorted(events, key=lambda e: (e["occurred_at"], e.get("event_id", "")))


def by_respondent(events: list[Body]) -> list[Body]:
    """A typical export: the directory, then each respondent's answers together, then the moments."""
    directory = [e for e in events if e["type"] in ("account", "stakeholder")]
    rest = [e for e in events if e["type"] not in ("account", "stakeholder")]
    return directory + sorted(rest, key=lambda e: (e.get("stakeholder_id", "~"), e["occurred_at"]))


def shuffled(seed: int) -> Callable[[list[Body]], list[Body]]:
    def order(events: list[Body]) -> list[Body]:
        out = list(events)
        random.Random(seed).shuffle(out)
        return out

    return order


async def alert_list(url: str) -> list[tuple[Any, ...]]:
    """Every alert with what the events decide (no wall-clock stamps)."""
    async with sessions_for(url) as sessions, sessions() as session:
        rows = await session.scalars(select(AlertRow).order_by(AlertRow.alert_id))
        return [
            (
                r.alert_id,
                r.account_id,
                r.type,
                r.key,
                r.severity,
                r.status,
                r.opened_as_of.isoformat(),
                None if r.closed_as_of is None else r.closed_as_of.isoformat(),
                r.record["as_of"],
                r.record["summary"],
                r.record["metrics"],
                r.record["positions"],
                r.record["evidence"],
            )
            for r in rows
        ]


async def run(url: str, events: list[Body], batch: int) -> list[tuple[Any, ...]]:
    async with sessions_for(url) as sessions:
        for start in range(0, len(events), batch):
            await apply_all(sessions, events[start : start + batch])
    return await alert_list(url)


def outcome(
    tmp_path: Path, events: list[Body], batch: int, *, backend: str = "sqlite", admin: str | None = None
) -> list[tuple[Any, ...]]:
    url = create_database(backend, tmp_path=tmp_path, pg_admin_url=admin)
    return asyncio.run(run(url, events, batch))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    """The alerts of the story applied one event per batch, in event-time order."""
    alerts = outcome(tmp_path_factory.mktemp("reference"), time_order(story_events()), batch=1)
    assert {a[2] for a in alerts if a[1] == "divided-co"} >= {"stakeholder_divergence", "masked_by_average"}
    assert [a for a in alerts if a[1] == "aligned-co"] == []
    return alerts


@pytest.mark.parametrize(
    ("order", "batch"),
    [
        (time_order, 500),
        (by_respondent, 1),
        (by_respondent, 50),
        (lambda e: list(reversed(time_order(e))), 37),
        (shuffled(1), 1),
        (shuffled(2), 64),
    ],
    ids=["time-one-batch", "respondent-singly", "respondent-50", "reversed-37", "shuffled-singly", "shuffled-64"],
)
def test_every_arrival_order_ends_with_the_same_alerts(
    reference: list[tuple[Any, ...]], tmp_path: Path, order: Callable[[list[Body]], list[Body]], batch: int
) -> None:
    assert outcome(tmp_path, order(story_events()), batch) == reference


def test_postgres_agrees(reference: list[tuple[Any, ...]], tmp_path: Path, pg_admin_url: str) -> None:
    events = by_respondent(story_events())
    assert outcome(tmp_path, events, 40, backend="postgres", admin=pg_admin_url) == reference


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), batch=st.integers(1, 120), late=st.integers(0, 60))
def test_any_order_with_late_arrivals_ends_with_the_same_alerts(
    reference: list[tuple[Any, ...]], tmp_path: Path, seed: int, batch: int, late: int
) -> None:
    # Mostly in order, with ``late`` events held back and delivered at the end, as a backfill after
    # an outage or a vendor's late webhook would.
    events = time_order(story_events())
    rng = random.Random(seed)
    held = set(rng.sample(range(len(events)), late))
    arrival = [e for i, e in enumerate(events) if i not in held] + [events[i] for i in sorted(held)]
    assert outcome(tmp_path, arrival, batch) == reference
