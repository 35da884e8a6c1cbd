"""The rebuild in large batches on the real broker: full batches gathered across fetches, the same result
whatever the batch size, and a failing record narrowed down and dead-lettered alone within a large batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import ProcessedEvent, Response
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.rebuild import rebuild
from shared.settings import Topics
from tests.analyzer.helpers import encode, sessions_for
from tests.analyzer.test_consumer import publish
from tests.factories import create_analyzer_settings, create_survey
from tests.harness.databases import create_database

ACCOUNTS = 12
PER_ACCOUNT = 30


class InjectedFault(RuntimeError):
    """What applying the poison record raises, in any batch."""


def answers(account: int) -> list[bytes]:
    return [
        encode(
            create_survey(
                account_id=f"acct-{account:02d}",
                stakeholder_id=f"p{index % 4}@acct-{account:02d}.example",
                occurred_at=f"2026-05-{1 + index % 28:02d}T10:{index % 60:02d}:00Z",
                score=index % 11,
            )
        )
        for index in range(PER_ACCOUNT)
    ]


async def snapshot(url: str) -> tuple[set[str], int]:
    """The events the database holds as processed, and its answers."""
    async with sessions_for(url) as sessions, sessions() as session:
        processed = set((await session.scalars(select(ProcessedEvent.event_id))).all())
        responses = await session.scalar(select(func.count()).select_from(Response))
        return processed, int(responses or 0)


async def test_a_rebuild_in_large_batches_matches_small_ones_and_isolates_a_failing_record(
    kafka_bootstrap: str,
    topics: Topics,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    by_account = [answers(a) for a in range(ACCOUNTS)]
    poison = by_account[5][17]
    for account, values in enumerate(by_account):
        await publish(kafka_bootstrap, topics, values, key=f"acct-{account:02d}")
    total = ACCOUNTS * PER_ACCOUNT

    batches: list[int] = []
    original = EventProcessor.process_batch

    async def planted(self: EventProcessor, session: AsyncSession, records: Sequence[tuple[bytes, RecordMeta]]) -> Any:
        batches.append(len(records))
        if any(raw == poison for raw, _ in records):
            raise InjectedFault("planted")
        return await original(self, session, records)

    monkeypatch.setattr(EventProcessor, "process_batch", planted)

    # Batches of 100 from six partitions: each batch but the last is full, gathered over fetches.
    small = await rebuild(create_analyzer_settings(kafka_bootstrap, topics, database_url), batch_records=100)
    assert small.records == total
    assert small.outcomes == {"applied": total - 1, "dead_lettered": 1}
    # (The halves a failing batch is narrowed down in are 50 records or fewer.)
    assert [size for size in batches if size > 50] == [100, 100, 100, total - 300], batches
    # The failing batch is halved down to the record: two tries per halving, not one per record.
    assert len(batches) <= 4 + 2 * 7, batches

    # One batch holding everything: the same outcome and the same database.
    batches.clear()
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    admin = request.getfixturevalue("pg_admin_url") if backend == "postgres" else None
    other = await asyncio.to_thread(create_database, backend, tmp_path=tmp_path, pg_admin_url=admin)
    large = await rebuild(create_analyzer_settings(kafka_bootstrap, topics, other), batch_records=5_000)
    assert batches[0] == total
    assert large.outcomes == small.outcomes
    processed, responses = await snapshot(database_url)
    assert (processed, responses) == await snapshot(other)
    assert responses == total - 1
    assert len(processed) == total
