"""Apply the Alembic migrations (``make migrate``; also run by the analyzer's start command), or wait for them."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from services.analyzer.db.engine import create_engine

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str) -> Config:
    """An Alembic config for this repository's migrations and the given database."""
    config = Config(str(REPO / "alembic.ini"))
    config.set_main_option("script_location", str(REPO / "migrations"))
    # ConfigParser interpolation would choke on a '%' in a password.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision``; must not run inside an event loop."""
    command.upgrade(alembic_config(database_url), revision)


def is_current(database_url: str) -> bool:
    """Whether the database's schema is at the migrations' head (False for an empty database)."""
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async def read() -> set[str]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(current)
        finally:
            await engine.dispose()

    return asyncio.run(read()) == heads


def wait_until_current(database_url: str, *, timeout_s: float, interval_s: float = 2.0) -> bool:
    """Wait for another step (the migration Job) to bring the schema to head; False after ``timeout_s``.

    An analyzer replica runs this before it starts when it must not migrate itself, so that it
    neither races the migration nor starts on an old schema. An unreachable database counts as
    "not yet": it is retried like an old schema.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if is_current(database_url):
                return True
            log.info("database schema not at head yet; waiting for the migration")
        except Exception as exc:  # noqa: BLE001 - any failure to read the schema means "not yet"
            log.info("database not readable yet; waiting", extra={"error": type(exc).__name__})
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)  # polling a database another process changes; bounded by the deadline
