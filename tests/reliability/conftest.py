"""Fixtures of the fault suite: services as live processes tuned to recover fast, and the figures table.

Every scenario starts ingest and the analyzer as subprocesses (``tests/harness/processes.py``) on its
own topics, and prints one line of figures; the table of all of them closes the run's output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Topics
from tests.e2e.test_pipeline import service_env
from tests.factories import ANALYZER_KEY, auth
from tests.harness.processes import ServiceProcess
from tests.reliability.figures import COLLECTED, table

# The stream of bench/stream.py spans a year before its start date; accept it whenever the suite runs.
EVENT_WINDOW = {"EVENT_TIME_EARLIEST": "2000-01-01T00:00:00Z", "EVENT_TIME_MAX_FUTURE_S": str(366 * 86_400)}
ALL_ALERT_EVENTS = ["alert.opened", "alert.updated", "alert.acknowledged", "alert.resolved"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Close the run with the table of every scenario's figures."""
    if COLLECTED:
        terminalreporter.section("fault suite figures")
        for line in table(COLLECTED):
            terminalreporter.write_line(line)


def analyzer_env(bootstrap: str, topics: Topics, database_url: str, group: str, **extra: str) -> dict[str, str]:
    """An analyzer that recovers fast: small batches, short leases and sweeps, loopback webhooks allowed.

    The database is migrated by the test beforehand, so a restart spends no time on Alembic. The
    wall-clock sweep is off: what the analyzer holds then depends on the events alone, and can be
    compared with an uninterrupted run's.
    """
    return service_env(
        bootstrap,
        topics,
        DATABASE_URL=database_url,
        ANALYZER_GROUP_ID=group,
        ANALYZER_RUN_MIGRATIONS="false",
        ANALYZER_SWEEP_INTERVAL_S="0",
        ANALYZER_POLL_TIMEOUT_MS="100",
        ANALYZER_SESSION_TIMEOUT_MS="6000",
        ANALYZER_OUTBOX_SWEEP_S="0.5",
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        WEBHOOK_POLL_INTERVAL_S="0.05",
        WEBHOOK_REQUEST_TIMEOUT_S="2",
        WEBHOOK_CONNECT_TIMEOUT_S="1",
        WEBHOOK_LEASE_S="3",
        **EVENT_WINDOW,
        **extra,
    )


def analyzer_process(
    bootstrap: str, topics: Topics, database_url: str, tmp_path: Path, group: str, **extra: str
) -> ServiceProcess:
    """The analyzer as a live process (not started)."""
    env = analyzer_env(bootstrap, topics, database_url, group, **extra)
    return ServiceProcess("services.analyzer", env, tmp_path / f"analyzer-{group}.log")


def ingest_process(bootstrap: str, topics: Topics, tmp_path: Path, **extra: str) -> ServiceProcess:
    """Ingest as a live process (not started)."""
    return ServiceProcess(
        "services.ingest", service_env(bootstrap, topics, **EVENT_WINDOW, **extra), tmp_path / "ingest.log"
    )


@pytest.fixture
def ingest(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[ServiceProcess]:
    """Ingest on the suite's broker and the test's topics."""
    process = ingest_process(kafka_bootstrap, topics, tmp_path)
    process.start()
    yield process
    process.stop()


async def subscribe(analyzer: ServiceProcess, url: str) -> dict[str, Any]:
    """Subscribe ``url`` to every alert event through the analyzer's API; the body holds ``id`` and ``secret``."""
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY), timeout=10) as client:
        response = await client.post("/v1/subscriptions", json={"url": url, "event_types": ALL_ALERT_EVENTS})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
