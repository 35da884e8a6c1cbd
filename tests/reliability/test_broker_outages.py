"""The broker stopped and started, then paused with SIGSTOP, under a steady stream of events.

A private broker (the suite's shared one must not be disturbed) serves ingest and the analyzer. A
client posts batch after batch and resends each one until it gets a 2xx, as docs/architecture.md asks.
Meanwhile the broker is stopped cleanly and started again, and later frozen with SIGSTOP for as long
as it takes ingest's publish bound to run out. Ingest must never answer 2xx for an event Kafka does not
hold: every acknowledged id is read back from the events topic. After the broker returns, the analyzer
applies every acknowledged event exactly once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.kafka.broker import KafkaBroker, start_broker
from tests.harness.databases import create_database
from tests.harness.kafka import count_records, create_topics, read_all, unique_topics
from tests.harness.waiting import wait_for_value, wait_until
from tests.reliability.books import LedgerProbe, read_books, reconcile
from tests.reliability.conftest import analyzer_process, ingest_process
from tests.reliability.figures import Figures, report
from tests.reliability.sender import Sender, stream_until

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    """A broker of this test alone, on free ports, with its data kept across a stop and a start."""
    broker = start_broker(data_dir=tmp_path / "kafka", partitions=3)
    yield broker
    if broker.process is not None and broker.process.poll() is None:
        broker.process.send_signal(signal.SIGCONT)  # a failed test may leave it frozen
    broker.stop()


@pytest.fixture
def database(pg_admin_url: str, tmp_path: Path) -> str:
    """The analyzer's PostgreSQL database."""
    return create_database("postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url)


@pytest.mark.timeout(300)
async def test_broker_stopped_and_frozen_never_acknowledges_an_event_kafka_lacks_and_loses_none(
    private_broker: KafkaBroker, database: str, tmp_path: Path
) -> None:
    broker = private_broker
    topics = unique_topics()
    await create_topics(broker.bootstrap, topics, partitions=3)
    # A short publish bound, so that a frozen broker turns into 503s within seconds.
    ingest = ingest_process(
        broker.bootstrap, topics, tmp_path, INGEST_PUBLISH_TIMEOUT_S="2", KAFKA_REQUEST_TIMEOUT_S="2"
    )
    analyzer = analyzer_process(broker.bootstrap, topics, database, tmp_path, "outages")
    ingest.start()
    analyzer.start()
    sender = Sender(ingest.url, timeout_s=15)
    stop = asyncio.Event()
    streaming = asyncio.create_task(stream_until(sender, stop))
    faults = 0
    try:

        async def acknowledged_more(than: int) -> None:
            await wait_until(
                lambda: _true(len(sender.acknowledged) >= than + 20), timeout_s=120, what="the stream flowing"
            )

        async def refused_once_more(than: int) -> None:
            await wait_until(lambda: _true(sender.unavailable > than), timeout_s=60, what="a 503 from ingest")

        for _ in range(2):
            await acknowledged_more(len(sender.acknowledged))
            seen = sender.unavailable
            await asyncio.to_thread(broker.stop)  # a clean shutdown, with the stream still posting
            faults += 1
            await refused_once_more(seen)
            await asyncio.to_thread(broker.start)  # same ports, same data
            await acknowledged_more(len(sender.acknowledged))

            seen = sender.unavailable
            assert broker.process is not None
            broker.process.send_signal(signal.SIGSTOP)
            faults += 1
            await refused_once_more(seen)  # frozen long enough for a publish to run out of time
            broker.process.send_signal(signal.SIGCONT)
            await acknowledged_more(len(sender.acknowledged))
        stop.set()
        await asyncio.wait_for(streaming, 120)

        on_topic = await count_records(broker.bootstrap, topics.events)
        records = await read_all(broker.bootstrap, topics.events, expect=on_topic, timeout_s=60)
        in_kafka = {r["value"]["event_id"] for r in records}
        not_in_kafka = set(sender.acknowledged) - in_kafka
        assert not not_in_kafka, f"2xx for events Kafka does not hold: {sorted(not_in_kafka)[:10]}"

        probe = LedgerProbe(database)
        try:
            await wait_for_value(
                probe.size, lambda n: n >= len(in_kafka), timeout_s=120, what="every event in Kafka applied"
            )
        finally:
            await probe.close()
    finally:
        stop.set()
        if not streaming.done():
            streaming.cancel()
        analyzer.stop()
        ingest.stop()

    result = reconcile(sender.acknowledged, await read_books(database))
    figures = report(
        Figures(
            "broker stop/start and SIGSTOP",
            faults,
            result.acknowledged,
            len(result.lost),
            len(result.doubled),
            note=(
                f"{sender.unavailable} answers 503 and {sender.no_answer} without an answer, each resent; "
                f"{len(records)} records on the topic for {len(in_kafka)} events"
            ),
        )
    )
    assert not sender.refused, sender.refused
    assert (figures.lost, figures.doubled) == (0, 0), result.summary()
    assert in_kafka == set(sender.acknowledged), "every event in Kafka was in the end acknowledged too"
    assert sender.unavailable >= faults


async def _true(value: bool) -> bool:
    return value
