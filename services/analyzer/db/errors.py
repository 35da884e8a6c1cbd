"""Telling a database outage from an error that one event caused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, InternalError, OperationalError

# SQLSTATE classes and codes that say the server or the connection is away, not the statement wrong:
# 08 connection exceptions, 57P01-57P05 operator intervention (shutdown, crash, "the database system
# is starting up"), 53300 too many connections.
OUTAGE_SQLSTATE_PREFIXES: Final = ("08", "57P")
OUTAGE_SQLSTATES: Final = frozenset({"53300"})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the driver error it wraps (``orig``), what each was raised from (``from``), and so on
    (SQLAlchemy and asyncpg wrap an error several times)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        for following in (orig, current.__cause__):
            if isinstance(following, BaseException):
                pending.append(following)


def _sqlstate(exc: BaseException) -> str | None:
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return code if isinstance(code, str) else None


def is_outage(exc: BaseException) -> bool:
    """True when the database (or the way to it) failed, not the statement an event produced.

    An outage is retried for as long as it lasts; anything else that goes wrong while an event is
    applied is that event's fault, and the event goes to the dead-letter topic. The asyncpg driver
    reports a server that is restarting ("the database system is starting up") or a connection
    closed under a statement as a plain ``DBAPIError``: its SQLSTATE, anywhere in the chain of
    causes, tells them apart from an event's own error.
    """
    if isinstance(exc, OperationalError | InterfaceError | InternalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    for link in _chain(exc):
        if isinstance(link, OSError | TimeoutError):
            return True
        code = _sqlstate(link)
        if code is not None and (code.startswith(OUTAGE_SQLSTATE_PREFIXES) or code in OUTAGE_SQLSTATES):
            return True
    return False


def is_conflict(exc: BaseException) -> bool:
    """True for a constraint clash, which another analyzer applying the same event during a
    rebalance causes; the batch is retried a few times before the event is blamed."""
    return isinstance(exc, IntegrityError)
