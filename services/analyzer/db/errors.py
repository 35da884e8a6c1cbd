"""Telling a database outage from an error that one event caused."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, InternalError, OperationalError


def is_outage(exc: BaseException) -> bool:
    """True when the database (or the way to it) failed, not the statement an event produced.

    An outage is retried for as long as it lasts; anything else that goes wrong while an event is
    applied is that event's fault, and the event goes to the dead-letter topic.
    """
    if isinstance(exc, OperationalError | InterfaceError | InternalError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError | TimeoutError)


def is_conflict(exc: BaseException) -> bool:
    """True for a constraint clash, which another analyzer applying the same event during a
    rebalance causes; the batch is retried a few times before the event is blamed."""
    return isinstance(exc, IntegrityError)
