"""Outbox rows queued in a transaction survive a SAVEPOINT rolled back inside it, and vanish with it."""

from __future__ import annotations

from sqlalchemy import func, select, text

from services.analyzer.db.models import OutboxMessage
from services.analyzer.outbox import repository as ledger
from tests.analyzer.helpers import sessions_for


async def test_a_savepoint_rolled_back_keeps_what_the_transaction_queued(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        async with sessions() as session, session.begin():
            ledger.enqueue(session, message_id="before", topic="t", key="k", value={"n": 1})
            # What enqueue_deliveries does when a concurrent writer got there first.
            nested = await session.begin_nested()
            await session.execute(text("SELECT 1"))
            await nested.rollback()
            ledger.enqueue(session, message_id="after", topic="t", key="k", value={"n": 2})
        async with sessions() as session:
            await session.begin()
            ledger.enqueue(session, message_id="rolled-back", topic="t", key="k", value={"n": 3})
            await session.rollback()
            assert ledger.enqueued(session) == []
        async with sessions() as session:
            ids = set(await session.scalars(select(OutboxMessage.message_id)))
            assert ids == {"before", "after"}
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
