"""Kafka helpers for tests: isolated topic names and reading records back from the real broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka import client_options, ensure_topics
from shared.personal import unseal, unwrap_key
from shared.settings import ServiceSettings, Topics

Broker = str | ServiceSettings
"""A broker: its ``host:port`` (plain text), or settings that say how to reach it (TLS, SASL)."""


def _settings(broker: Broker, **overrides: Any) -> ServiceSettings:
    if isinstance(broker, str):
        return ServiceSettings(kafka_bootstrap_servers=broker, _env_file=None, **overrides)
    return broker.model_copy(update=overrides)


def unique_topics() -> Topics:
    """Topic names no other test uses."""
    tag = uuid.uuid4().hex[:10]
    return Topics(
        events=f"t{tag}.events",
        alerts=f"t{tag}.alerts",
        positions=f"t{tag}.positions",
        dlq=f"t{tag}.dlq",
        erasures=f"t{tag}.erasures",
        keys=f"t{tag}.keys",
        survey_requests=f"t{tag}.survey_requests",
    )


async def create_topics(broker: Broker, topics: Topics, *, partitions: int = 6) -> None:
    """Create the topics on the test broker."""
    await ensure_topics(_settings(broker, kafka_topic_partitions=partitions, topics=topics), topics.all())


async def read_all(broker: Broker, topic: str, *, expect: int, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    """Read ``topic`` from the start until ``expect`` records arrived (fail after ``timeout_s``).

    Returns each record as ``{"key", "value" (parsed JSON), "headers", "partition", "offset"}``.
    """
    consumer = AIOKafkaConsumer(
        **client_options(_settings(broker)),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        await consumer.seek_to_beginning()
        records: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(records) < expect and loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(
                    {
                        "key": r.key.decode() if r.key else None,
                        "value": json.loads(r.value) if r.value else None,
                        "headers": {k: v.decode() for k, v in r.headers},
                        "partition": r.partition,
                        "offset": r.offset,
                    }
                    for r in recs
                )
        return records
    finally:
        await consumer.stop()


async def read_opened(
    bootstrap: str, topics: Topics, *, expect: int, kek: bytes, timeout_s: float = 30.0
) -> list[dict[str, Any]]:
    """``read_all`` of the events topic, with each sealed record opened with the data keys of the keys topic."""
    records = await read_all(bootstrap, topics.events, expect=expect, timeout_s=timeout_s)
    wrapped = await read_all(bootstrap, topics.keys, expect=await count_records(bootstrap, topics.keys))
    keys = {r["key"]: unwrap_key(r["key"], json.dumps(r["value"]).encode(), kek) for r in wrapped if r["value"]}
    for record in records:
        if isinstance(record["value"], dict) and "sealed" in record["value"]:
            seal_part = record["value"].pop("sealed")
            record["value"] = unseal(record["value"], seal_part, keys[seal_part["key"]].secret)
    return records


async def count_records(bootstrap: str, topic: str) -> int:
    """How many records the topic holds (end offsets summed; the keys topic is compacted, but not in a test)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in await _partitions(consumer, topic)]
        ends = await consumer.end_offsets(tps)
        begins = await consumer.beginning_offsets(tps)
        return sum(ends[tp] - begins[tp] for tp in tps)
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[int]:
    for _ in range(50):
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return sorted(partitions)
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    raise AssertionError(f"topic {topic} has no partitions")
