"""Apply the Alembic migrations (``make migrate``; also run by the analyzer's start command)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

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
