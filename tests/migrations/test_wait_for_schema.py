"""``python -m services.analyzer wait-for-schema``: replicas that do not migrate wait for the step that does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command

from deploy.kafka.broker import REPO
from services.analyzer.migrate import alembic_config, is_current, upgrade, wait_until_current
from tests.harness.databases import create_database


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database on each back end that no migration has touched."""
    admin = request.getfixturevalue("pg_admin_url") if request.param == "postgres" else None
    return create_database(request.param, tmp_path=tmp_path, pg_admin_url=admin, migrate=False)


def test_only_a_schema_at_head_is_current(empty_database: str) -> None:
    assert not is_current(empty_database)
    upgrade(empty_database)
    assert is_current(empty_database)
    command.downgrade(alembic_config(empty_database), "-1")
    assert not is_current(empty_database)


def test_waiting_ends_when_the_schema_is_at_head_and_gives_up_otherwise(empty_database: str) -> None:
    assert wait_until_current(empty_database, timeout_s=0.3, interval_s=0.1) is False
    upgrade(empty_database)
    assert wait_until_current(empty_database, timeout_s=0.3, interval_s=0.1) is True


def test_an_unreachable_database_is_waited_for_not_a_crash() -> None:
    unreachable = "postgresql+asyncpg://nobody:nothing@127.0.0.1:1/none"
    assert wait_until_current(unreachable, timeout_s=0.2, interval_s=0.1) is False


def test_the_command_exits_0_on_a_migrated_database_and_1_on_an_empty_one(tmp_path: Path) -> None:
    def run(url: str) -> int:
        env = {**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"}
        command_line = [sys.executable, "-m", "services.analyzer", "wait-for-schema", "--timeout", "0.5"]
        return subprocess.run(command_line, env=env, cwd=REPO, capture_output=True, timeout=60, check=False).returncode

    assert run(create_database("sqlite", tmp_path=tmp_path, pg_admin_url=None)) == 0
    assert run(create_database("sqlite", tmp_path=tmp_path, pg_admin_url=None, migrate=False)) == 1
