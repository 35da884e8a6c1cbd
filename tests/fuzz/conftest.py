"""Both services as live processes for the fuzzer.

Module-scoped: every fuzz test of a module shares one ingest (every vendor secret configured) and
one analyzer (SQLite, its own topics, seeded with a small account so list and detail bodies are real).
Limits that exist to stop abuse are raised through settings, so that the fuzzer's own volume is not
answered with 429 throughout; the checks stay the same.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.ingest.service import EventPublisher
from services.ingest.settings import VENDOR_SOURCES
from shared.events import EVENT_ADAPTER
from shared.kafka import DurablePublisher
from shared.settings import Topics
from tests.e2e.test_pipeline import analyzer_process, service_env
from tests.factories import create_ingest_settings, create_stakeholder, create_survey
from tests.fuzz.vendors import SECRET
from tests.harness.databases import create_database
from tests.harness.kafka import create_topics, unique_topics
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value

RAISED_LIMITS = {
    "INGEST_RATE_LIMIT_PER_S": "1000000",
    "INGEST_RATE_LIMIT_BURST": "1000000",
    "INGEST_AUTH_FAILURES_PER_MIN": "1000000",
    "INGEST_AUTH_FAILURE_BURST": "1000000",
}
SEED_EVENTS = [
    create_stakeholder(account_id="acme", stakeholder_id="paula", role="procurement"),
    create_stakeholder(account_id="acme", stakeholder_id="ivan", role="it"),
    create_survey(account_id="acme", stakeholder_id="paula", score=10, event_id="seed-1"),
    create_survey(account_id="acme", stakeholder_id="ivan", score=2, event_id="seed-2"),
    create_survey(account_id="globex", stakeholder_id="gina", score=7, event_id="seed-3"),
]


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _topics(bootstrap: str) -> Topics:
    topics = unique_topics()
    asyncio.run(create_topics(bootstrap, topics))
    return topics


@pytest.fixture(scope="module")
def fuzzed_ingest(kafka_bootstrap: str, fuzz_dir: Path) -> Iterator[ServiceProcess]:
    """Ingest with a secret for every vendor (so no vendor route answers 404) and raised limits."""
    secrets = {f"WEBHOOK_SECRET_{source.upper()}": SECRET for source in VENDOR_SOURCES}
    env = service_env(kafka_bootstrap, _topics(kafka_bootstrap), **secrets, **RAISED_LIMITS)
    process = ServiceProcess("services.ingest", env, fuzz_dir / "ingest.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def fuzzed_analyzer(kafka_bootstrap: str, fuzz_dir: Path) -> Iterator[ServiceProcess]:
    """The analyzer on SQLite with a small seeded account; its webhook dispatcher is off.

    Off because the fuzzer creates subscriptions to whatever URLs it makes up: nothing may be sent
    to them.
    """
    topics = _topics(kafka_bootstrap)
    database = create_database("sqlite", tmp_path=fuzz_dir, pg_admin_url=None)
    process = analyzer_process(kafka_bootstrap, topics, database, fuzz_dir, "fuzz", WEBHOOK_DISPATCHER_ENABLED="false")
    process.start()
    try:
        asyncio.run(_seed(kafka_bootstrap, topics))
        asyncio.run(
            wait_for_value(lambda: _applied(process), lambda n: n == len(SEED_EVENTS), what="the seed events applied")
        )
        yield process
    finally:
        process.stop()


async def _seed(bootstrap: str, topics: Topics) -> None:
    settings = create_ingest_settings(bootstrap, topics)
    kafka = DurablePublisher(settings, client_id="fuzz-seed")
    try:
        events = [EVENT_ADAPTER.validate_python(event) for event in SEED_EVENTS]
        publisher = EventPublisher(
            kafka,
            topics,
            timeout_s=10,
            kek=settings.personal_data_kek,
            key_rotation_s=settings.personal_data_key_rotation_s,
        )
        await publisher.publish(events, source="api")
    finally:
        await kafka.close()


async def _applied(analyzer: ServiceProcess) -> int:
    async with httpx.AsyncClient(base_url=analyzer.url) as client:
        text = (await client.get("/metrics")).text
    match = re.search(r"^analyzer_events_applied (\S+)$", text, re.MULTILINE)
    return int(float(match.group(1))) if match else 0
