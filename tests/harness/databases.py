"""Fresh, migrated databases for tests: a SQLite file or a new PostgreSQL database each time."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from services.analyzer.db.all_models import Base
from services.analyzer.db.engine import create_engine, create_sessionmaker
from services.analyzer.migrate import upgrade


async def _create_pg_database(admin_url: str, name: str) -> None:
    url = make_url(admin_url)
    conn = await asyncpg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def create_database(backend: str, *, tmp_path: Path, pg_admin_url: str | None, migrate: bool = True) -> str:
    """A new empty database on ``backend`` (``sqlite`` or ``postgres``), migrated to head; its URL."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / f'db-{uuid.uuid4().hex[:8]}.sqlite'}"
    else:
        assert pg_admin_url is not None
        name = f"t_{uuid.uuid4().hex[:12]}"
        asyncio.run(_create_pg_database(pg_admin_url, name))
        url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    if migrate:
        upgrade(url)
    return url


async def database_text(url: str) -> str:
    """Every row of every table of the analyzer's database, as lower-case text (to search for traces)."""
    engine = create_engine(url)
    parts: list[str] = []
    try:
        async with create_sessionmaker(engine)() as session:
            for table in Base.metadata.sorted_tables:
                parts.extend(f"{table.name}: {tuple(row)!r}" for row in (await session.execute(select(table))).all())
    finally:
        await engine.dispose()
    return "\n".join(parts).lower()
