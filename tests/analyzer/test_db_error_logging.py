"""Database errors reach the logs without the values bound to the failed statement (issue 23, item 6).

SQLAlchemy puts a failed statement's parameters (e-mail addresses, comments) into the text of the
exception; logging it with ``exc_info`` would copy them into the logs.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from services.analyzer.db.engine import create_engine, create_sessionmaker
from services.analyzer.db.models import StakeholderAlias
from shared.logging import JsonFormatter

EMAIL = "alice.personal@example.com"


def alias() -> StakeholderAlias:
    return StakeholderAlias(
        alias=EMAIL, account_id="acme", stakeholder_id="p-1", set_at=datetime.now(UTC), set_by="test"
    )


async def test_a_constraint_violation_is_logged_without_its_parameters(database_url: str) -> None:
    engine = create_engine(database_url, writer=True)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            session.add(alias())
        with pytest.raises(IntegrityError) as caught:
            async with sessions() as session, session.begin():
                session.add(alias())  # the same primary key again
    finally:
        await engine.dispose()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.db_error_logging")
    logger.addHandler(handler)
    try:
        logger.error("could not store an alias", exc_info=caught.value)
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "stakeholder_aliases" in logged, "the statement itself is still there to debug with"
    assert EMAIL not in logged
    assert "hidden due to hide_parameters" in logged
