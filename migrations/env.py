"""Alembic environment: async engine, ``run_sync``, ``compare_type`` and the shared naming convention."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from services.analyzer.db.all_models import Base
from services.analyzer.db.engine import create_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    # An explicit URL (tests, the analyzer's start command) wins over the environment.
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from services.analyzer.settings import AnalyzerSettings

    return os.environ.get("DATABASE_URL") or AnalyzerSettings().database_url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs table rebuilds to alter
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
            await connection.commit()
    finally:
        await engine.dispose()


def run_offline() -> None:
    """Emit SQL to stdout instead of connecting (``alembic upgrade head --sql``)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(_run_online())
