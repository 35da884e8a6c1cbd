"""The migrations build exactly the models' schema, and walk down and up again, on both back ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import command

from services.analyzer.db.engine import create_engine
from services.analyzer.migrate import alembic_config


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    # Raises if autogenerate would find any difference between the models and the migrated schema.
    command.check(alembic_config(database_url))


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    command.check(config)


def test_0007_keeps_every_person_and_model_and_leaves_the_new_figures_unknown(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "0006")
    asyncio.run(_write_0006_rows(database_url))
    command.upgrade(config, "head")
    # Nobody was flagged before: everyone decides as their role does; the risk waits for an evaluation.
    assert asyncio.run(_read(database_url, "SELECT stakeholder_id, role, decision_maker FROM stakeholders")) == [
        ("jane", "finance", None)
    ]
    assert asyncio.run(_read(database_url, "SELECT account_id, nps, risk FROM account_models")) == [
        ("acme", 12.5, None)
    ]
    command.downgrade(config, "0006")
    assert asyncio.run(_read(database_url, "SELECT stakeholder_id, role FROM stakeholders")) == [("jane", "finance")]
    command.upgrade(config, "head")
    command.check(config)


_AT = datetime(2026, 11, 30, 12, tzinfo=UTC)
_ACCOUNTS = sa.table(
    "accounts",
    sa.column("account_id", sa.String),
    sa.column("field_versions", sa.JSON),
    sa.column("first_seen_at", sa.DateTime(timezone=True)),
    sa.column("last_event_at", sa.DateTime(timezone=True)),
)
_STAKEHOLDERS = sa.table(
    "stakeholders",
    sa.column("account_id", sa.String),
    sa.column("stakeholder_id", sa.String),
    sa.column("role", sa.String),
    sa.column("side", sa.String),
    sa.column("influence", sa.Float),
    sa.column("field_versions", sa.JSON),
    sa.column("first_seen_at", sa.DateTime(timezone=True)),
)
_MODELS = sa.table(
    "account_models",
    sa.column("account_id", sa.String),
    sa.column("document", sa.JSON),
    sa.column("as_of", sa.DateTime(timezone=True)),
    sa.column("nps", sa.Float),
)


async def _write_0006_rows(url: str) -> None:
    """An account, a person and a model row as the schema of revision 0006 holds them."""
    engine = create_engine(url, writer=True)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                _ACCOUNTS.insert().values(account_id="acme", field_versions={}, first_seen_at=_AT, last_event_at=_AT)
            )
            await connection.execute(
                _STAKEHOLDERS.insert().values(
                    account_id="acme",
                    stakeholder_id="jane",
                    role="finance",
                    side="client",
                    influence=1.0,
                    field_versions={},
                    first_seen_at=_AT,
                )
            )
            await connection.execute(_MODELS.insert().values(account_id="acme", document={}, as_of=_AT, nps=12.5))
    finally:
        await engine.dispose()


async def _read(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(sa.text(query))]
    finally:
        await engine.dispose()
