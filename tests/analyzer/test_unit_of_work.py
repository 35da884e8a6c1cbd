"""The unit of work of a consumer batch (repository/unit_of_work.py), on SQLite and PostgreSQL.

A batch writes its ledger rows and journey moments in one insert per table, a rebuild in the same
batch reads its moments back, a ledger id another consumer wrote meanwhile fails the batch instead
of being skipped, and the unit of work is seen by no other session and outlives no batch.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.engine import PINNED_KEY, pin_for_unit_of_work
from services.analyzer.db.models import JourneyMomentRow, ProcessedEvent
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.repository.unit_of_work import BatchWork, batch_of, work_of
from shared.events import Event
from shared.settings import Topics
from tests.analyzer.helpers import EVERYTHING_IS_NEWS, encode, sessions_for
from tests.factories import create_moment, create_survey
from tests.harness.databases import create_database


def _batch() -> list[dict[str, Any]]:
    """Answers and journey moments of two accounts, the last arriving a day before the others (a rebuild)."""
    bodies: list[dict[str, Any]] = []
    for n in range(6):
        bodies.append(create_survey(event_id=f"a{n}", occurred_at=f"2026-05-1{n}T10:00:00Z", score=n + 3))
        bodies.append(create_moment(event_id=f"m{n}", occurred_at=f"2026-05-1{n}T11:00:00Z"))
    bodies.append(create_moment(event_id="late", occurred_at="2026-05-09T11:00:00Z"))
    return bodies


async def test_ledger_rows_and_moments_are_one_insert_each(database_url: str) -> None:
    bodies = _batch()
    async with sessions_for(database_url) as sessions:
        processor = EventProcessor(Topics(), EVERYTHING_IS_NEWS)
        inserts: list[str] = []
        async with sessions() as session, session.begin():
            engine = session.bind.sync_engine  # type: ignore[union-attr]

            def seen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
                if statement.lstrip().upper().startswith("INSERT"):
                    inserts.append(statement.split("(")[0].split()[-1].strip('"'))

            event.listen(engine, "before_cursor_execute", seen)
            try:
                records = [(encode(b), RecordMeta("feedback.events.v1", 0, i, b"acme")) for i, b in enumerate(bodies)]
                outcomes = await processor.process_batch(session, records)
            finally:
                event.remove(engine, "before_cursor_execute", seen)
        assert outcomes == ["applied"] * len(bodies)
        assert inserts.count("processed_events") == 1
        assert inserts.count("journey_moments") == 1
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == len(bodies)
            assert await session.scalar(select(func.count()).select_from(JourneyMomentRow)) == 7
            late = await session.get(JourneyMomentRow, "late")
            assert late is not None
            assert late.occurred_at == datetime(2026, 5, 9, 11, tzinfo=UTC)


@pytest.fixture
def postgres_url(pg_admin_url: str, tmp_path: Path) -> str:
    """A fresh migrated PostgreSQL database."""
    return create_database("postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url)


async def test_an_id_written_meanwhile_fails_the_batch(postgres_url: str) -> None:
    # Another member applied the event during a rebalance, after this batch read the ledger: the
    # batch must fail (the consumer retries it and finds a duplicate), never apply it a second time.
    # PostgreSQL only: on SQLite the batch's writer holds the database lock from BEGIN.
    async with sessions_for(postgres_url) as sessions:

        class RivalFirst(EventProcessor):
            async def apply(self, session: AsyncSession, event: Event) -> None:
                async with sessions() as rival, rival.begin():
                    rival.add(
                        ProcessedEvent(
                            event_id="e1",
                            topic="feedback.events.v1",
                            partition=0,
                            offset=0,
                            processed_at=datetime.now(UTC),
                            outcome="applied",
                        )
                    )
                await super().apply(session, event)

        processor = RivalFirst(Topics(), EVERYTHING_IS_NEWS)
        records = [(encode(create_survey(event_id="e1")), RecordMeta("feedback.events.v1", 0, 0, b"acme"))]
        with pytest.raises(IntegrityError):
            async with sessions() as session, session.begin():
                await processor.process_batch(session, records)
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 1


async def test_the_unit_of_work_belongs_to_its_batch_and_session(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        seen: list[tuple[bool, bool]] = []
        async with sessions() as session, session.begin(), sessions() as other:

            class Watching(EventProcessor):
                async def apply(self, session: AsyncSession, event: Event) -> None:
                    seen.append((work_of(session) is not None, batch_of(other) is None))
                    await super().apply(session, event)

            processor = Watching(Topics(), EVERYTHING_IS_NEWS)
            records = [(encode(create_survey(event_id="e1")), RecordMeta("feedback.events.v1", 0, 0, b"acme"))]
            assert await processor.process_batch(session, records) == ["applied"]
            assert seen == [(True, True)]
            assert work_of(session) is None


async def test_nothing_a_batch_started_keeps_its_rows_alive_after_it(database_url: str) -> None:
    # Callbacks and tasks created during a batch copy its context (the database driver makes some
    # that outlive the batch); they must not keep the batch's unit of work, and so its rows, alive.
    async with sessions_for(database_url) as sessions:
        works: list[weakref.ReferenceType[BatchWork]] = []
        handles: list[asyncio.TimerHandle] = []

        class Watching(EventProcessor):
            async def apply(self, session: AsyncSession, event: Event) -> None:
                work = work_of(session)
                assert work is not None
                works.append(weakref.ref(work))
                handles.append(asyncio.get_running_loop().call_later(3600, lambda: None))
                await super().apply(session, event)

        processor = Watching(Topics(), EVERYTHING_IS_NEWS)
        records = [(encode(create_survey(event_id="e1")), RecordMeta("feedback.events.v1", 0, 0, b"acme"))]
        async with sessions() as session:
            async with session.begin():
                pin_for_unit_of_work(session)
                assert await processor.process_batch(session, records) == ["applied"]
                assert session.info[PINNED_KEY]  # the batch's rows are held while it runs
            assert session.info[PINNED_KEY] == []  # and let go when its transaction ends
        try:
            gc.collect()
            assert works
            assert works[0]() is None
        finally:
            for handle in handles:
                handle.cancel()
