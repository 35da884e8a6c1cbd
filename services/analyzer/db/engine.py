"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

import orjson
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite database file, so the default ``./var/feedback.db`` just works."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False, writer: bool = False) -> AsyncEngine:
    """An async engine that keeps bound parameters out of its errors' text; SQLite gets WAL, foreign
    keys and a busy timeout for concurrent writers.

    ``writer=True`` (the consumer's engine) makes SQLite transactions take the write lock at BEGIN,
    so two processes sharing a file queue on the busy timeout instead of failing to upgrade a lock.
    """
    ensure_sqlite_dir(url)
    # hide_parameters: an error's text (logged with exc_info) would otherwise carry the statement's
    # bound values, e-mail addresses and comments among them, into the logs.
    kwargs: dict[str, Any] = {
        "echo": echo,
        "pool_pre_ping": True,
        "hide_parameters": True,
        "json_serializer": json_dumps,
        "json_deserializer": json_loads,
    }
    if make_url(url).get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=10, max_overflow=10)
        if make_url(url).get_driver_name() == "asyncpg":
            # asyncpg prepares every statement, and after five runs PostgreSQL may switch a prepared
            # statement to a generic plan, made without its parameters' values: for the batch's
            # ``IN (500 ids)`` lookups that plan compared each row with every parameter in turn, a
            # full scan of 300 ms instead of an index lookup of 1 ms. Planning each run with its
            # values costs a fraction of a millisecond.
            kwargs["connect_args"] = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "handle_error", hide_server_detail)
    if engine.dialect.name == "sqlite":
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling breaks SAVEPOINT; emit BEGIN ourselves (SQLAlchemy's
        # documented recipe for SQLite), which also lets the writer take the lock up front.
        event.listen(engine.sync_engine, "begin", lambda conn: conn.exec_driver_sql(begin))
    return engine


def json_dumps(value: Any) -> str:
    """A JSON column's value as text: orjson (several times faster than ``json`` for the model's
    documents), or ``json`` for what orjson does not take (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def json_loads(text: str | bytes) -> Any:
    """A JSON column's text as a value: orjson, or ``json`` for what only it reads (``NaN``)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


# PostgreSQL's DETAIL line of an error quotes row values ("Key (alias)=(alice@example.com) already
# exists", "Failing row contains (...)"); asyncpg puts it into the exception's text.
_DETAIL: Final = re.compile(r"\nDETAIL: .*?(?=\nHINT: |\Z)", re.DOTALL)


def hide_server_detail(context: ExceptionContext) -> None:
    """Drop the server's DETAIL (row values) from a database error and the driver errors it wraps.

    The statement and the error itself stay, to debug with. The exception chain is scrubbed too,
    since a logged traceback prints every exception of it.
    """
    # SQLAlchemy's own error is not chained to the driver's yet: walk from both.
    chain: list[BaseException] = []
    for start in (context.sqlalchemy_exception, context.original_exception):
        error: BaseException | None = start
        while error is not None and error not in chain:
            chain.append(error)
            error = error.__cause__ or error.__context__
    for error in chain:
        if isinstance(getattr(error, "detail", None), str):
            error.detail = None  # type: ignore[attr-defined]  # asyncpg's PostgresError (SQLAlchemy's is a list)
        if len(error.args) == 1 and isinstance(error.args[0], str) and "\nDETAIL: " in error.args[0]:
            error.args = (_DETAIL.sub("", error.args[0]),)


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
    """Keep every object the session loads or inserts strongly referenced until its transaction ends.

    The identity map holds objects weakly, so an account read by one event of a batch could be
    collected and read again by the next; pinned, a later ``session.get`` of it is answered from
    memory. A consumer batch holds a bounded number of accounts, so this is bounded too, and the
    objects are let go when the batch commits or rolls back (whoever still holds the session).
    """
    pinned: list[object] = session.info.setdefault(PINNED_KEY, [])
    sync = session.sync_session

    def keep(_: object, instance: object) -> None:
        pinned.append(instance)

    def release(_: object, transaction: Any) -> None:
        if transaction.parent is None:  # the batch's own transaction, not a savepoint inside it
            pinned.clear()

    event.listen(sync, "loaded_as_persistent", keep)
    event.listen(sync, "pending_to_persistent", keep)
    event.listen(sync, "after_transaction_end", release)
