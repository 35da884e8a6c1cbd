"""Crypto-shredding on the real broker: no personal data on the events or keys topic, the analyzer opens
sealed records, ``shred_subjects`` makes a person's records unreadable, and a rebuild reads them as anonymous."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from sqlalchemy import select

from services.analyzer.app import create_app as create_analyzer
from services.analyzer.db.all_models import Base
from services.analyzer.db.models import JourneyMomentRow, OutboxMessage, Response, Stakeholder
from services.analyzer.keyring import KeyRing
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.rebuild import rebuild
from services.ingest.app import create_app as create_ingest
from shared.kafka import DurablePublisher
from shared.settings import Topics
from tests.analyzer.helpers import encode, sessions_for
from tests.factories import (
    INGEST_KEY,
    auth,
    create_analyzer_settings,
    create_ingest_settings,
    create_moment,
    create_stakeholder,
    create_survey,
)
from tests.harness.databases import create_database
from tests.harness.kafka import _partitions
from tests.harness.waiting import wait_until

EMAIL = "jane.doe@acme.example"
NAME = "Jane Doe-Shredded"
COMMENT = "Jane finds the renewal terms unacceptable"
ALIAS = "zendesk:user:887766"
PERSONAL = (EMAIL, NAME, COMMENT, ALIAS)
EVENTS = [
    create_stakeholder(stakeholder_id=EMAIL, name=NAME, role="finance", aliases=[ALIAS]),
    create_survey(stakeholder_id=EMAIL, comment=COMMENT, score=3, occurred_at="2026-05-02T10:00:00Z"),
    create_moment(stakeholder_id=EMAIL, moment="support_close", occurred_at="2026-05-03T10:00:00Z"),
]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            yield client


async def raw_records(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    """Every record of ``topic`` as it is stored: (key, value) bytes."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in await _partitions(consumer, topic)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        records: list[tuple[bytes | None, bytes | None]] = []
        for tp in tps:
            while await consumer.position(tp) < ends[tp]:
                for recs in (await consumer.getmany(tp, timeout_ms=500)).values():
                    records += [(r.key, r.value) for r in recs]
        return records
    finally:
        await consumer.stop()


async def publish(bootstrap: str, topics: Topics, events: list[dict[str, Any]]) -> None:
    async with running(create_ingest(create_ingest_settings(bootstrap, topics))) as ingest:
        response = await ingest.post("/v1/events/batch", json={"events": events}, headers=auth(INGEST_KEY))
        assert response.status_code == 202, response.text


async def everything_in(url: str) -> str:
    """Every row of every table of a database, as text."""
    async with sessions_for(url) as sessions, sessions() as session:
        rows = [
            repr(row) for table in Base.metadata.sorted_tables for row in (await session.execute(select(table))).all()
        ]
    return "\n".join(rows)


@pytest.fixture
def second_sqlite_url(tmp_path: Path) -> str:
    """Another fresh migrated SQLite database, for a second rebuild."""
    return create_database("sqlite", tmp_path=tmp_path, pg_admin_url=None)


async def test_personal_data_is_sealed_on_kafka_and_shredding_makes_it_unreadable_for_good(
    kafka_bootstrap: str, topics: Topics, sqlite_url: str, database_url: str, second_sqlite_url: str
) -> None:
    await publish(kafka_bootstrap, topics, EVENTS)

    # What any Kafka reader sees: neither the events nor the keys topic holds the person's data.
    events = await raw_records(kafka_bootstrap, topics.events)
    keys = await raw_records(kafka_bootstrap, topics.keys)
    assert len(events) == 3
    assert len(keys) == 2  # one data key per set of subjects: {email, alias}, {email}
    stored = b"\n".join(part or b"" for record in [*events, *keys] for part in record)
    for secret in PERSONAL:
        assert secret.encode() not in stored, f"{secret!r} is readable on Kafka"
    assert all(b'"sealed"' in (value or b"") for _, value in events)

    # The analyzer opens the records and applies them.
    settings = create_analyzer_settings(kafka_bootstrap, topics, sqlite_url)
    app = create_analyzer(settings)
    async with running(app):
        consumer = app.state.consumer

        async def applied() -> bool:
            return bool(consumer.stats.applied == 3)

        await wait_until(applied, what="the three sealed events applied")
        async with sessions_for(sqlite_url) as sessions, sessions() as session:
            person = await session.scalar(select(Stakeholder).where(Stakeholder.stakeholder_id == EMAIL))
            assert person is not None
            assert person.name == NAME
            assert await session.scalar(select(Response.comment)) == COMMENT
        # The erasure's call: every key of the person, whichever spelling of the e-mail it is given.
        keyring: KeyRing = app.state.keyring
        assert await keyring.shred_subjects([EMAIL.upper()]) == 2
        assert await keyring.shred_subjects([EMAIL]) == 0, "nothing left to shred"

    # A rebuild into a fresh database: the answer and the person read as shredded, the moment as anonymous.
    target = database_url
    report = await rebuild(create_analyzer_settings(kafka_bootstrap, topics, target))
    assert report.outcomes == {"shredded": 2, "applied": 1}
    async with sessions_for(target) as sessions, sessions() as session:
        assert (await session.execute(select(Response))).all() == []
        assert (await session.execute(select(Stakeholder))).all() == []
        moment = await session.scalar(select(JourneyMomentRow))
        assert moment is not None
        assert (moment.account_id, moment.moment, moment.stakeholder_id) == ("acme", "support_close", None)
    dump = await everything_in(target)
    for secret in PERSONAL:
        assert secret not in dump, f"{secret!r} came back in the rebuilt database"

    # A second rebuild changes nothing: shredded records are processed, never dead-lettered.
    again = await rebuild(create_analyzer_settings(kafka_bootstrap, topics, second_sqlite_url))
    assert again.outcomes == report.outcomes


async def test_a_tampered_seal_is_dead_lettered_and_plaintext_records_still_read(
    kafka_bootstrap: str, topics: Topics, sqlite_url: str
) -> None:
    await publish(kafka_bootstrap, topics, [EVENTS[1]])
    [(_, genuine)] = await raw_records(kafka_bootstrap, topics.events)
    assert genuine is not None
    record = json.loads(genuine)
    data = bytearray(base64.b64decode(record["sealed"]["data"]))
    data[-1] ^= 1
    record["sealed"]["data"] = base64.b64encode(bytes(data)).decode()
    tampered = json.dumps(record).encode()
    legacy = encode(create_survey(stakeholder_id="bob@acme.example", comment="plain, as before sealing"))

    settings = create_analyzer_settings(kafka_bootstrap, topics, sqlite_url)
    publisher = DurablePublisher(settings, client_id="test")
    keyring = KeyRing(settings, publisher)
    processor = EventProcessor(topics, keyring=keyring)
    try:
        async with sessions_for(sqlite_url) as sessions:
            for raw, expected in ((tampered, "dead_lettered"), (legacy, "applied"), (genuine, "applied")):
                async with sessions() as session, session.begin():
                    meta = RecordMeta(topics.events, 0, 0, b"acme", "feedback.event.v1")
                    assert await processor.process_batch(session, [(raw, meta)]) == [expected]
            async with sessions() as session:
                [dead] = (await session.scalars(select(OutboxMessage).where(OutboxMessage.topic == topics.dlq))).all()
                comments = set((await session.scalars(select(Response.comment))).all())
    finally:
        await keyring.close()
        await publisher.close()
    assert "does not open with its key" in dead.value["reason"]
    assert COMMENT not in json.dumps(dead.value), "the dead letter keeps the record sealed"
    assert comments == {COMMENT, "plain, as before sealing"}


async def test_a_record_sealed_with_an_unreadable_key_is_dead_lettered_not_shredded(
    kafka_bootstrap: str, topics: Topics, sqlite_url: str
) -> None:
    """A data key wrapped with another PERSONAL_DATA_KEY (a misconfigured service) loses no data silently."""
    other = base64.b64encode(b"another-personal-data-key-32byte").decode()
    async with running(create_ingest(create_ingest_settings(kafka_bootstrap, topics, personal_data_key=other))) as c:
        assert (await c.post("/v1/events", json=EVENTS[1], headers=auth(INGEST_KEY))).status_code == 202
    [(_, raw)] = await raw_records(kafka_bootstrap, topics.events)
    assert raw is not None
    settings = create_analyzer_settings(kafka_bootstrap, topics, sqlite_url)
    publisher = DurablePublisher(settings, client_id="test")
    keyring = KeyRing(settings, publisher)
    try:
        async with sessions_for(sqlite_url) as sessions:
            async with sessions() as session, session.begin():
                meta = RecordMeta(topics.events, 0, 0, b"acme", "feedback.event.v1")
                outcomes = await EventProcessor(topics, keyring=keyring).process_batch(session, [(raw, meta)])
            async with sessions() as session:
                dead = await session.scalar(select(OutboxMessage))
    finally:
        await keyring.close()
        await publisher.close()
    assert outcomes == ["dead_lettered"]
    assert dead is not None
    assert "another PERSONAL_DATA_KEY" in dead.value["reason"]


async def test_an_unreadable_keys_topic_makes_the_consumer_wait_not_dead_letter(
    kafka_bootstrap: str, topics: Topics, sqlite_url: str
) -> None:
    """Kafka's fault, not the records': sealed records wait for their keys as a batch waits for the database."""
    await publish(kafka_bootstrap, topics, [EVENTS[1]])
    missing = topics.model_copy(update={"keys": f"{topics.keys}.missing"})
    app = create_analyzer(create_analyzer_settings(kafka_bootstrap, missing, sqlite_url))
    async with running(app):
        consumer = app.state.consumer

        async def waiting_for_keys() -> bool:
            return bool(consumer.stats.waiting_for == "keys" and consumer.stats.retries >= 2)

        await wait_until(waiting_for_keys, what="the consumer waiting for the keys topic")
        assert (consumer.stats.applied, consumer.stats.dead_lettered, consumer.stats.shredded) == (0, 0, 0)
