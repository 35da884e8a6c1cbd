"""How the analyzer's engine talks to PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from services.analyzer.db.engine import create_engine
from tests.harness.databases import create_database


async def _plan_cache_modes(url: str) -> list[str]:
    modes = []
    for writer in (False, True):
        engine = create_engine(url, writer=writer)
        try:
            async with engine.connect() as conn:
                modes.append((await conn.execute(text("SHOW plan_cache_mode"))).scalar_one())
        finally:
            await engine.dispose()
    return modes


def test_postgresql_plans_every_statement_with_its_values(pg_admin_url: str, tmp_path: Path) -> None:
    # A generic plan for the batch's ``IN (500 ids)`` lookups scanned the whole ledger (300 ms
    # against an index lookup's 1 ms) once PostgreSQL chose it after five runs of the statement.
    url = create_database("postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url, migrate=False)
    assert asyncio.run(_plan_cache_modes(url)) == ["force_custom_plan", "force_custom_plan"]
