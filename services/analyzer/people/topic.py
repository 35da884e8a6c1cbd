"""The erasures topic: every erasure's record (hashes of ids, no personal data), read back at start.

A database restored from a backup older than an erasure, or rebuilt from the events topic, does not
hold that erasure; the topic does (unlimited retention, like the events it erases). The analyzer reads
it before it consumes, and applies again each erasure its database lacks (``service.replay_erasures``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.assessment import Assessor
from services.analyzer.people.service import replay_erasures
from shared.kafka import build_reader
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


async def read_erasures(settings: ServiceSettings, *, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """Every erasure record on the erasures topic, oldest first; none when the topic does not exist."""
    topic = settings.topics.erasures
    consumer = build_reader(settings, client_id="erasures")
    await asyncio.wait_for(consumer.start(), timeout_s)
    try:
        cluster = await consumer._client.fetch_all_metadata()  # no public call for an unsubscribed topic
        tps = [TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())]
        if not tps:
            return []
        consumer.assign(tps)
        begins = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        remaining = {tp for tp in tps if ends[tp] > begins[tp]}
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the erasures topic {topic!r} was not read to its end in {timeout_s:g} s")
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=500)).items():
                for record in records:
                    if record.offset < ends[tp] and (value := _parse(record.value)) is not None:
                        found.append(value)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return sorted(found, key=lambda v: str(v["erased_at"]))
    finally:
        await consumer.stop()


def _parse(raw: bytes | None) -> dict[str, Any] | None:
    try:
        value = json.loads(raw or b"")
    except ValueError:
        value = None
    if not isinstance(value, dict) or not {"erasure_id", "erased_at", "erased_by", "subjects"} <= value.keys():
        log.warning("an unreadable record on the erasures topic was skipped")
        return None
    return value


async def catch_up(
    settings: ServiceSettings, writer_sessions: async_sessionmaker[AsyncSession], assessor: Assessor
) -> int:
    """Apply every erasure of the topic that the database lacks; return how many."""
    return await replay_erasures(writer_sessions, assessor, await read_erasures(settings))


async def catch_up_until_done(
    settings: ServiceSettings,
    writer_sessions: async_sessionmaker[AsyncSession],
    assessor: Assessor,
    *,
    max_backoff_s: float = 10.0,
) -> None:
    """``catch_up``, retried with backoff while Kafka or the database is away (the consumer waits on it)."""
    backoff = 0.5
    while True:
        try:
            applied = await catch_up(settings, writer_sessions, assessor)
        except (KafkaError, OSError, TimeoutError, DBAPIError) as exc:  # the broker or the database away
            log.warning("erasures topic not read yet; retrying", extra={"reason": repr(exc), "retry_in_s": backoff})
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff_s)
            continue
        if applied:
            log.info("erasures applied again from the erasures topic", extra={"erasures": applied})
        return
