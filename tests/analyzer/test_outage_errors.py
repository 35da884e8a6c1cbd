"""A database that is restarting or dropped the connection is an outage, never an event's fault.

asyncpg reports "the database system is starting up" (crash recovery after a server crash), an
administrator's shutdown and a connection closed under a statement as plain ``DBAPIError``s; read
as an event's error, each would dead-letter good events (and, with the dead letter failing the same
way, skip them). ``tests/reliability/test_postgres_restart.py`` crashes a durable server to show it
live; these pin the classification on the driver's own exceptions.
"""

from __future__ import annotations

import asyncpg.exceptions as pg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from services.analyzer.db.errors import is_conflict, is_outage


class AdaptedError(Exception):
    """What SQLAlchemy's asyncpg adapter raises from the driver's exception."""


def as_sqlalchemy_raises(driver_error: BaseException) -> DBAPIError:
    """The error as it reaches the analyzer: SQLAlchemy's wrapper of the adapter's, from asyncpg's."""
    try:
        try:
            raise driver_error
        except BaseException as raised:
            raise AdaptedError(str(raised)) from raised
    except AdaptedError as adapted:
        return DBAPIError("SELECT 1", {}, adapted)


@pytest.mark.parametrize(
    "driver_error",
    [
        pg.CannotConnectNowError("the database system is starting up"),
        pg.AdminShutdownError("terminating connection due to administrator command"),
        pg.CrashShutdownError("terminating connection because of crash of another server process"),
        pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        pg.TooManyConnectionsError("sorry, too many clients already"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_server_away_is_an_outage(driver_error: BaseException) -> None:
    assert is_outage(as_sqlalchemy_raises(driver_error))


@pytest.mark.parametrize(
    "driver_error",
    [
        pg.DataError("invalid input"),
        pg.InvalidTextRepresentationError('invalid input syntax for type integer: "x"'),
        pg.NumericValueOutOfRangeError("value out of range"),
        ValueError("a bug of ours"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_error_about_a_value_is_the_events(driver_error: BaseException) -> None:
    assert not is_outage(as_sqlalchemy_raises(driver_error))


def test_a_constraint_clash_is_a_conflict_not_an_outage() -> None:
    clash = IntegrityError("INSERT", {}, AdaptedError("duplicate key"))
    assert is_conflict(clash)
    assert not is_outage(clash)


def raise_while_handling_an_outage() -> None:
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError:
        raise ValueError("bad value")  # noqa: B904 - implicit context, as a careless handler leaves it


def test_an_error_raised_while_handling_an_outage_is_still_the_events() -> None:
    with pytest.raises(ValueError, match="bad value") as raised:
        raise_while_handling_an_outage()
    assert raised.value.__context__ is not None
    assert not is_outage(raised.value)
