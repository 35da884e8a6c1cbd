"""Alert changes are counted when their transaction commits, once, whatever savepoints it used."""

from __future__ import annotations

from sqlalchemy import text

from services.analyzer.alerts import counts
from tests.analyzer.helpers import sessions_for


async def test_counted_on_commit_not_on_rollback_and_savepoints_do_not_decide(sqlite_url: str) -> None:
    before = counts.TOTALS["news"]
    async with sessions_for(sqlite_url) as sessions:
        async with sessions() as session, session.begin():
            counts.count(session, "news")
            async with session.begin_nested():  # released: the outer transaction has not committed yet
                await session.execute(text("SELECT 1"))
            assert counts.TOTALS["news"] == before
            counts.count(session, "news")
        assert counts.TOTALS["news"] == before + 2

        async with sessions() as session:
            await session.begin()
            counts.count(session, "news")
            async with session.begin_nested():
                await session.execute(text("SELECT 1"))
            await session.rollback()
        assert counts.TOTALS["news"] == before + 2

        async with sessions() as session, session.begin():
            counts.count(session, "news")
            nested = await session.begin_nested()
            await nested.rollback()  # a savepoint rolled back; the transaction commits
        assert counts.TOTALS["news"] == before + 3
