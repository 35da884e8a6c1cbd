"""Both services as live processes over HTTP, a real broker and a real database."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.kafka.broker import start_broker
from shared.settings import Topics
from tests.factories import (
    ANALYZER_KEY,
    INGEST_KEY,
    PERSONAL_DATA_KEY,
    SURVEY_LINK_SECRET,
    auth,
    create_stakeholder,
    create_survey,
)
from tests.harness.databases import create_database
from tests.harness.kafka import create_topics, unique_topics
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value

pytestmark = pytest.mark.e2e


def service_env(bootstrap: str, topics: Topics, **extra: str) -> dict[str, str]:
    """Environment of a service process isolated on its own topics."""
    return {
        "ENVIRONMENT": "test",
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TOPICS__EVENTS": topics.events,
        "TOPICS__ALERTS": topics.alerts,
        "TOPICS__POSITIONS": topics.positions,
        "TOPICS__DLQ": topics.dlq,
        "TOPICS__ERASURES": topics.erasures,
        "TOPICS__KEYS": topics.keys,
        "TOPICS__SURVEY_REQUESTS": topics.survey_requests,
        "PERSONAL_DATA_KEY": PERSONAL_DATA_KEY,
        "INGEST_API_KEYS": INGEST_KEY,
        "ANALYZER_API_KEYS": ANALYZER_KEY,
        "SURVEY_LINK_SECRET": SURVEY_LINK_SECRET,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def analyzer_process(
    bootstrap: str, topics: Topics, database_url: str, tmp_path: Path, group: str, **extra: str
) -> ServiceProcess:
    env = service_env(bootstrap, topics, DATABASE_URL=database_url, ANALYZER_GROUP_ID=group, **extra)
    return ServiceProcess("services.analyzer", env, tmp_path / f"analyzer-{group}.log")


async def account(analyzer: ServiceProcess, account_id: str) -> dict[str, Any] | None:
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY)) as client:
        response = await client.get(f"/v1/accounts/{account_id}")
        return response.json() if response.status_code == 200 else None


def response_counts(view: dict[str, Any] | None) -> dict[str, int]:
    if view is None:
        return {}
    return {s["stakeholder_id"]: s["responses"] for s in view["stakeholders"]}


async def applied(analyzer: ServiceProcess) -> int:
    async with httpx.AsyncClient(base_url=analyzer.url) as client:
        text = (await client.get("/metrics")).text
    match = re.search(r"^analyzer_events_applied (\S+)$", text, re.MULTILINE)
    return int(float(match.group(1))) if match else 0


async def all_counts(analyzer: ServiceProcess, accounts: list[str]) -> dict[str, dict[str, int]]:
    """Per account, per stakeholder: the answers the analyzer holds."""
    return {a: response_counts(await account(analyzer, a)) for a in accounts}


async def post_batch(ingest: ServiceProcess, events: list[dict[str, Any]]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=ingest.url, headers=auth(INGEST_KEY), timeout=30) as client:
        return await client.post("/v1/events/batch", json={"events": events})


async def test_events_posted_to_ingest_reach_the_analyzer_once(
    kafka_bootstrap: str,
    topics: Topics,
    ingest: ServiceProcess,
    database_url: str,
    tmp_path: Path,
) -> None:
    analyzer = analyzer_process(kafka_bootstrap, topics, database_url, tmp_path, "analyzer")
    analyzer.start()
    try:
        events = [
            create_stakeholder(stakeholder_id="ann", role="procurement"),
            create_survey(event_id="r1", stakeholder_id="ann", score=9),
            create_survey(event_id="r2", stakeholder_id="bob", score=4),
        ]
        assert (await post_batch(ingest, events)).status_code == 202
        assert (
            await post_batch(ingest, [create_survey(event_id="r1", stakeholder_id="ann", score=9)])
        ).status_code == 202

        view = await wait_for_value(
            lambda: account(analyzer, "acme"),
            lambda v: response_counts(v) == {"ann": 1, "bob": 1},
            what="both answers held once",
        )
        assert view is not None
        roles = {s["stakeholder_id"]: s["role"] for s in view["stakeholders"]}
        assert roles == {"ann": "procurement", "bob": "unassigned"}
        await wait_for_value(lambda: applied(analyzer), lambda n: n == 3, what="three events applied")
    finally:
        analyzer.stop()


@pytest.fixture
def crashed_and_reference_db(pg_admin_url: str, tmp_path: Path) -> tuple[str, str]:
    """A PostgreSQL database for the run that crashes and a SQLite one for the reference run."""
    return (
        create_database("postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url),
        create_database("sqlite", tmp_path=tmp_path, pg_admin_url=None),
    )


@pytest.mark.reliability
async def test_analyzer_killed_mid_stream_ends_with_the_counts_of_an_uninterrupted_run(
    kafka_bootstrap: str,
    topics: Topics,
    ingest: ServiceProcess,
    crashed_and_reference_db: tuple[str, str],
    tmp_path: Path,
) -> None:
    crashed_db, reference_db = crashed_and_reference_db
    # A slow consumer (small batches) so that the kill lands in the middle of the stream.
    crashed = analyzer_process(kafka_bootstrap, topics, crashed_db, tmp_path, "crash", ANALYZER_MAX_BATCH_RECORDS="3")
    total = 600
    accounts = [f"acct-{n}" for n in range(7)]
    events = [
        create_survey(
            event_id=f"ev-{i}",
            account_id=f"acct-{i % 150 % 7}",
            stakeholder_id=f"p-{i % 150 % 23}",
            score=i % 11,
            response_id=f"resp-{i % 150}",  # versions of one answer: replay order must not matter
            occurred_at=f"2026-05-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
        )
        for i in range(total)
    ]
    for start in range(0, total, 100):
        assert (await post_batch(ingest, events[start : start + 100])).status_code == 202

    crashed.start()
    progress = await wait_for_value(lambda: applied(crashed), lambda n: n >= 60, timeout_s=60, what="some progress")
    crashed.kill()
    assert progress < total, "the kill must land mid-stream for this test to mean anything"
    crashed.start()  # same group, same database: replays from the last committed offsets

    reference = analyzer_process(kafka_bootstrap, topics, reference_db, tmp_path, "reference")
    reference.start()
    try:
        await wait_for_value(partial(applied, reference), lambda n: n == total, timeout_s=90, what="reference run")
        expected = {a: response_counts(await account(reference, a)) for a in accounts}
        await wait_for_value(
            partial(all_counts, crashed, accounts),
            lambda observed: observed == expected,
            timeout_s=90,
            what="the restarted run to hold exactly the reference's answers",
        )
        # Both runs hold exactly the distinct answers, once each.
        totals = 0
        for n in range(7):
            totals += sum(response_counts(await account(crashed, f"acct-{n}")).values())
        assert totals == 150
    finally:
        crashed.stop()
        reference.stop()


@pytest.mark.reliability
async def test_kafka_down_makes_ingest_answer_503_and_accept_again_when_it_is_back(tmp_path: Path) -> None:
    broker = start_broker(data_dir=tmp_path / "kafka", partitions=2)
    topics = unique_topics()
    await create_topics(broker.bootstrap, topics, partitions=2)
    ingest = ServiceProcess(
        "services.ingest",
        service_env(broker.bootstrap, topics, INGEST_PUBLISH_TIMEOUT_S="3"),
        tmp_path / "ingest.log",
    )
    ingest.start()
    try:
        assert (await post_batch(ingest, [create_survey(event_id="before")])).status_code == 202
        broker.stop()
        down = await post_batch(ingest, [create_survey(event_id="during")])
        assert down.status_code == 503
        assert down.headers["retry-after"] == "5"

        broker.start()  # same ports, same data
        back = await wait_for_value(
            lambda: post_batch(ingest, [create_survey(event_id="after")]),
            lambda r: r.status_code == 202,
            timeout_s=90,
            interval_s=0.5,
            what="ingest accepting again",
        )
        assert back.json()["event_ids"] == ["after"]
    finally:
        ingest.stop()
        broker.stop()
