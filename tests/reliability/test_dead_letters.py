"""A poison record and a record of a future schema version, written straight to the events topic.

Each lands on the dead-letter topic (the test's own ``feedback.dlq.v1``) with its reason and the
position it came from, and the events behind it on the same partitions are applied: processing goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from shared.settings import Topics
from tests.harness.kafka import count_records, read_all
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value
from tests.reliability.books import LedgerProbe, read_books, reconcile
from tests.reliability.conftest import analyzer_process
from tests.reliability.figures import Figures, report
from tests.reliability.sender import Sender, answers

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

V1 = (("schema", b"feedback.event.v1"), ("source", b"api"))
V2 = (("schema", b"feedback.event.v2"), ("source", b"api"))


@dataclass(frozen=True, slots=True)
class Planted:
    """A record written past ingest, and what its dead letter's reason must say."""

    name: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...]
    reason: str


def future_event() -> bytes:
    """A ``survey_response`` as a version 2 producer might write it: a field version 1 does not know."""
    event = answers(1, prefix="future")[0]
    return json.dumps({**event, "sentiment": {"score": 0.4, "model": "v2"}}).encode()


PLANTED = [
    Planted("bytes that are not JSON", "acct-0", b"\xff\xfe{ not json", V1, "undecodable event"),
    Planted("JSON that is no event", "acct-1", b'{"hello": "world"}', V1, "undecodable event"),
    Planted("a future schema version", "acct-2", future_event(), V2, "unsupported schema 'feedback.event.v2'"),
    # Without the header a record is read as version 1, which refuses the field it does not know.
    Planted("a future field without a schema header", "acct-3", future_event(), (), "sentiment"),
]


async def plant(bootstrap: str, topic: str) -> dict[tuple[int, int], Planted]:
    """Write the planted records; return them by (partition, offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        where = {}
        for record in PLANTED:
            meta = await producer.send_and_wait(
                topic, record.value, key=record.key.encode(), headers=list(record.headers)
            )
            where[(meta.partition, meta.offset)] = record
        return where
    finally:
        await producer.stop()


@pytest.mark.timeout(120)
async def test_poison_and_future_schema_records_are_dead_lettered_with_their_reason_and_processing_goes_on(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, database_url: str, tmp_path: Path
) -> None:
    analyzer = analyzer_process(kafka_bootstrap, topics, database_url, tmp_path, "dead-letters")
    analyzer.start()
    probe = LedgerProbe(database_url)
    try:
        sender = Sender(ingest.url)
        await sender.send_all(answers(40, prefix="before"))
        planted = await plant(kafka_bootstrap, topics.events)
        await sender.send_all(answers(40, first=40, prefix="after"))  # behind the planted ones, same partitions
        total = len(sender.acknowledged) + len(planted)
        await wait_for_value(probe.size, partial(_at_least, total), timeout_s=60, what="every record processed")
        await wait_for_value(
            partial(count_records, kafka_bootstrap, topics.dlq),
            partial(_at_least, len(planted)),
            timeout_s=30,
            what="the dead letters on the topic",
        )
    finally:
        await probe.close()
        analyzer.stop()

    letters = await read_all(kafka_bootstrap, topics.dlq, expect=len(planted))
    by_source = {}
    for letter in letters:
        source = letter["value"]["source"]
        assert source["topic"] == topics.events
        by_source[(source["partition"], source["offset"])] = letter
    assert set(by_source) == set(planted), "one dead letter per planted record, naming where it came from"
    for position, record in planted.items():
        letter = by_source[position]
        assert record.reason in letter["value"]["reason"], (record.name, letter["value"]["reason"])
        assert letter["key"] == record.key
        assert letter["headers"]["message-id"].startswith("dlq:")
    books = await read_books(database_url)
    positions = {f"{topics.events}:{p}:{o}" for p, o in planted}
    assert {i for i, outcome in books.ledger.items() if outcome == "dead_lettered"} == positions
    result = reconcile(sender.acknowledged, books)
    figures = report(
        Figures(
            f"poison and future-schema records ({database_url.split('+')[0]})",
            len(planted),
            result.acknowledged,
            len(result.lost),
            len(result.doubled),
            note=f"{len(letters)} dead letters: " + "; ".join(r.name for r in planted.values()),
        )
    )
    assert (figures.lost, figures.doubled) == (0, 0), result.summary()


def _at_least(point: int, value: int) -> bool:
    return value >= point


@pytest.mark.timeout(120)
async def test_a_record_declaring_a_future_schema_is_dead_lettered_even_when_its_body_reads_as_v1(
    kafka_bootstrap: str, topics: Topics, sqlite_url: str, tmp_path: Path
) -> None:
    analyzer = analyzer_process(kafka_bootstrap, topics, sqlite_url, tmp_path, "future-schema")
    analyzer.start()
    probe = LedgerProbe(sqlite_url)
    try:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            body = json.dumps(answers(1, prefix="compat")[0]).encode()
            meta = await producer.send_and_wait(topics.events, body, key=b"acct-0", headers=list(V2))
        finally:
            await producer.stop()
        await wait_for_value(probe.size, partial(_at_least, 1), timeout_s=60, what="the record processed")
    finally:
        await probe.close()
        analyzer.stop()
    ledger = (await read_books(sqlite_url)).ledger
    assert ledger == {f"{topics.events}:{meta.partition}:{meta.offset}": "dead_lettered"}, ledger
