"""The consumer on a real broker and a real database: batches, offsets, dead letters, outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.consumer import EventConsumer
from services.analyzer.db.models import OutboxMessage, Response
from services.analyzer.outbox.relay import OutboxRelay
from services.analyzer.processing import EventProcessor
from services.analyzer.settings import AnalyzerSettings
from shared.kafka import DurablePublisher, Record
from shared.settings import Topics
from tests.analyzer.helpers import encode, sessions_for
from tests.factories import create_analyzer_settings, create_survey
from tests.harness.kafka import create_topics, read_all, unique_topics
from tests.harness.waiting import wait_until


@asynccontextmanager
async def running_consumer(
    settings: AnalyzerSettings,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[EventConsumer]:
    kafka = DurablePublisher(settings, client_id="test-analyzer")
    relay = OutboxRelay(sessions, kafka, timeout_s=10)
    consumer = EventConsumer(settings, sessions, EventProcessor(settings.topics), after_commit=relay.publish)
    task = asyncio.create_task(consumer.run())
    try:
        yield consumer
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await kafka.close()


async def publish(bootstrap: str, topics: Topics, values: list[bytes], key: str = "acme") -> None:
    kafka = DurablePublisher(create_analyzer_settings(bootstrap, topics, "sqlite://"), client_id="test-producer")
    try:
        await kafka.publish([Record(topics.events, key, v) for v in values], timeout_s=30)
    finally:
        await kafka.close()


async def committed_total(settings: AnalyzerSettings) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=settings.analyzer_group_id)
    await consumer.start()
    try:
        total = 0
        for partition in range(6):
            offset = await consumer.committed(TopicPartition(settings.topics.events, partition))
            total += offset or 0
        return total
    finally:
        await consumer.stop()


async def test_consumer_applies_commits_offsets_and_publishes_dead_letters(
    kafka_bootstrap: str,
    database_url: str,
) -> None:
    topics = unique_topics()
    await create_topics(kafka_bootstrap, topics)
    settings = create_analyzer_settings(kafka_bootstrap, topics, database_url)
    values = [encode(create_survey(event_id=f"e{i}", stakeholder_id=f"p{i % 4}")) for i in range(40)]
    values.insert(7, b"not json at all")
    values.append(values[3])  # a redelivered duplicate
    await publish(kafka_bootstrap, topics, values)

    async with sessions_for(database_url) as sessions, running_consumer(settings, sessions) as consumer:

        async def all_seen() -> bool:
            stats = consumer.stats
            return stats.applied + stats.duplicates + stats.dead_lettered >= len(values)

        await wait_until(all_seen, timeout_s=60, what="every record processed")
        assert (consumer.stats.applied, consumer.stats.duplicates, consumer.stats.dead_lettered) == (40, 1, 1)
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Response)) == 40

        async def offsets_committed() -> bool:
            return await committed_total(settings) == len(values)

        await wait_until(offsets_committed, timeout_s=30, what="offsets committed")
        [dead] = await read_all(kafka_bootstrap, topics.dlq, expect=1)
        assert dead["key"] == "acme"
        assert dead["value"]["payload"] == {"text": "not json at all"}
        assert dead["headers"]["message-id"].startswith("dlq:")

        async def outbox_drained() -> bool:
            async with sessions() as session:
                left = await session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None)),
                )
                return left == 0

        await wait_until(outbox_drained, what="outbox published")


async def test_a_second_consumer_of_the_group_resumes_from_committed_offsets(
    kafka_bootstrap: str,
    sqlite_url: str,
) -> None:
    topics = unique_topics()
    await create_topics(kafka_bootstrap, topics)
    settings = create_analyzer_settings(kafka_bootstrap, topics, sqlite_url)
    await publish(kafka_bootstrap, topics, [encode(create_survey(event_id=f"a{i}")) for i in range(10)])
    async with sessions_for(sqlite_url) as sessions:
        async with running_consumer(settings, sessions) as first:

            async def first_done() -> bool:
                return first.stats.applied == 10 and await committed_total(settings) == 10

            await wait_until(first_done, timeout_s=60, what="first consumer done")
        await publish(kafka_bootstrap, topics, [encode(create_survey(event_id=f"b{i}")) for i in range(5)])
        async with running_consumer(settings, sessions) as second:

            async def second_done() -> bool:
                return second.stats.applied == 5

            await wait_until(second_done, timeout_s=60, what="second consumer done")
            assert second.stats.duplicates == 0, "committed records must not be read again"
