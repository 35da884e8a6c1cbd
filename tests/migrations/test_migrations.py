"""The migrations build exactly the models' schema, and walk down and up again, on both back ends."""

from __future__ import annotations

from alembic import command

from services.analyzer.migrate import alembic_config


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    # Raises if autogenerate would find any difference between the models and the migrated schema.
    command.check(alembic_config(database_url))


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    command.check(config)
