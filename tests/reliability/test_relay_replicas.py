"""Two analyzers on one PostgreSQL publish every outbox row exactly once in a crash-free run.

Both share the consumer group (so the partitions are split between them) and the database (so each
one's outbox sweep sees the other's rows). The sweep runs every 50 ms with no grace period, so the
two relays and each batch's own publish race for the same unpublished rows all the time: without
the lease a row is sent by more than one of them. Every record on the positions and alerts topics
must carry a ``message-id`` no other record carries, and there must be one record per outbox row.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import stream
from services.analyzer.db.models import OutboxMessage, ProcessedEvent
from shared.settings import Topics
from tests.analyzer.helpers import sessions_for
from tests.harness.databases import create_database
from tests.harness.kafka import count_records, read_all
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value
from tests.reliability.conftest import analyzer_env
from tests.reliability.sender import Sender

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

EVENTS = 1200
ACCOUNTS = 30
RACING = {"ANALYZER_OUTBOX_GRACE_S": "0", "ANALYZER_OUTBOX_SWEEP_S": "0.05", "ANALYZER_MAX_BATCH_RECORDS": "25"}


async def books(url: str) -> tuple[int, int, dict[str, int]]:
    """Events applied, outbox rows not yet published, and outbox rows per topic."""
    async with sessions_for(url) as sessions, sessions() as session:
        applied = await session.scalar(select(func.count()).select_from(ProcessedEvent))
        waiting = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None))
        )
        per_topic: dict[str, int] = {}
        for topic, count in await session.execute(
            select(OutboxMessage.topic, func.count()).group_by(OutboxMessage.topic)
        ):
            per_topic[topic] = count
        return int(applied or 0), int(waiting or 0), per_topic


async def test_two_analyzers_on_one_database_publish_each_outbox_row_once(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, pg_admin_url: str, tmp_path: Path
) -> None:
    url = await asyncio.to_thread(create_database, "postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url)
    env = {**analyzer_env(kafka_bootstrap, topics, url, "replicas"), **RACING}
    members = [ServiceProcess("services.analyzer", env, tmp_path / f"analyzer-{n}.log") for n in (1, 2)]
    for member in members:
        member.start()
    try:
        sender = Sender(ingest.url)
        await sender.send_all(stream.stream(events=EVENTS, accounts=ACCOUNTS, seed=31))
        assert not sender.refused, sender.refused
        total = len(sender.acknowledged)
        await wait_for_value(
            lambda: books(url), lambda b: b[0] == total and b[1] == 0, timeout_s=180, what="every event and row"
        )
    finally:
        for member in members:
            member.stop()
    _, _, per_topic = await books(url)
    for topic in (topics.positions, topics.alerts):
        assert per_topic.get(topic, 0) > 0, f"the stream writes records for {topic}"
        records = await read_all(kafka_bootstrap, topic, expect=await count_records(kafka_bootstrap, topic))
        ids = Counter(record["headers"]["message-id"] for record in records)
        doubled = {message_id: n for message_id, n in ids.items() if n > 1}
        assert doubled == {}, f"{len(doubled)} rows of {topic} published more than once"
        assert len(records) == per_topic[topic], f"one record per outbox row on {topic}"
