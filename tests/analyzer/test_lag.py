"""Consumer lag against the real broker: log end offset minus the group's committed offset."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry, generate_latest

from services.analyzer.lag import LagCollector, LagMonitor
from shared.settings import Topics


async def test_lag_counts_what_the_group_has_not_committed(kafka_bootstrap: str, topics: Topics) -> None:
    first, second = TopicPartition(topics.events, 0), TopicPartition(topics.events, 1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for n in range(10):
            await producer.send_and_wait(topics.events, f"a{n}".encode(), partition=0)
        for n in range(3):
            await producer.send_and_wait(topics.events, f"b{n}".encode(), partition=1)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=f"lag-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        consumer.assign([first, second])
        monitor = LagMonitor(lambda: consumer, interval_s=1)
        await monitor.refresh()
        # Nothing committed yet: every record of a partition counts.
        assert monitor.lag == {first: 10, second: 3}

        await consumer.commit({first: 4, second: 3})
        await monitor.refresh()
        assert monitor.lag == {first: 6, second: 0}

        registry = CollectorRegistry()
        registry.register(LagCollector(monitor))
        text = generate_latest(registry).decode()
        assert f'analyzer_consumer_lag{{partition="0",topic="{topics.events}"}} 6.0' in text
        assert f'analyzer_consumer_lag{{partition="1",topic="{topics.events}"}} 0.0' in text
    finally:
        await consumer.stop()


async def test_no_consumer_no_lag() -> None:
    monitor = LagMonitor(lambda: None, interval_s=1)
    monitor.lag = {TopicPartition("t", 0): 5}
    await monitor.refresh()
    assert monitor.lag == {}
