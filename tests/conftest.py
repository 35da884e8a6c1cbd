"""Suite-wide fixtures: one real Kafka broker and one private PostgreSQL cluster per test run.

Each test isolates itself with its own topic names, consumer group and database. Set
``TEST_KAFKA_BOOTSTRAP`` or ``TEST_POSTGRES_URL`` to use servers you already run instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.kafka.broker import KafkaBroker, start_broker
from shared.settings import Topics
from tests.harness.databases import create_database
from tests.harness.kafka import create_topics, unique_topics
from tests.harness.postgres import PostgresCluster, start_cluster

BACKENDS = ["sqlite", "postgres"]


def pytest_report_header() -> list[str]:
    return ["real infrastructure: Kafka broker and PostgreSQL cluster started by tests/conftest.py"]


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """``host:port`` of the suite's Kafka broker (started once, on free ports)."""
    existing = os.environ.get("TEST_KAFKA_BOOTSTRAP")
    if existing:
        yield existing
        return
    started = time.monotonic()
    broker: KafkaBroker = start_broker()
    print(f"\nkafka broker ready on {broker.bootstrap} in {time.monotonic() - started:.1f}s")
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of the suite's PostgreSQL maintenance database."""
    existing = os.environ.get("TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    cluster: PostgresCluster = start_cluster()
    print(f"\npostgresql ready on port {cluster.port} in {cluster.startup_s:.1f}s")
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database, migrated to head, on each back end in turn."""
    backend: str = request.param
    admin = request.getfixturevalue("pg_admin_url") if backend == "postgres" else None
    return create_database(backend, tmp_path=tmp_path, pg_admin_url=admin)


@pytest.fixture
async def topics(kafka_bootstrap: str) -> Topics:
    """Topic names of this test alone, created on the suite's broker."""
    topics = unique_topics()
    await create_topics(kafka_bootstrap, topics)
    return topics


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh migrated SQLite database (for tests that exercise one back end only)."""
    return create_database("sqlite", tmp_path=tmp_path, pg_admin_url=None)
