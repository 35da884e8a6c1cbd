"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite database file, so the default ``./var/feedback.db`` just works."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False, writer: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout for concurrent writers.

    ``writer=True`` (the consumer's engine) makes SQLite transactions take the write lock at BEGIN,
    so two processes sharing a file queue on the busy timeout instead of failing to upgrade a lock.
    """
    ensure_sqlite_dir(url)
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True}
    if make_url(url).get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=10, max_overflow=10)
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling breaks SAVEPOINT; emit BEGIN ourselves (SQLAlchemy's
        # documented recipe for SQLite), which also lets the writer take the lock up front.
        event.listen(engine.sync_engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the API read while the consumer writes; several analyzer processes can share a file.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    dbapi_connection.isolation_level = None


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


PINNED_KEY = "pinned"


def pin_for_unit_of_work(session: AsyncSession) -> None:
    """Keep every object the session loads or inserts strongly referenced until it closes.

    The identity map holds objects weakly, so an account read by one event of a batch could be
    collected and read again by the next; pinned, a later ``session.get`` of it is answered from
    memory. A consumer batch holds a bounded number of accounts, so this is bounded too.
    """
    pinned: list[object] = session.info.setdefault(PINNED_KEY, [])
    sync = session.sync_session

    def keep(_: object, instance: object) -> None:
        pinned.append(instance)

    event.listen(sync, "loaded_as_persistent", keep)
    event.listen(sync, "pending_to_persistent", keep)
