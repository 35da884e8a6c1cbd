"""Kafka plumbing shared by both services: durable producers, topic creation, broker probes.

The semantics follow aiokafka's own docs: ``acks="all"`` with the idempotent producer,
every send awaited with a bound (aiokafka has no ``max.block.ms``), and a producer that is rebuilt
after a fatal error instead of staying stuck (e.g. on ``OutOfOrderSequenceNumber``).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import collect_hosts, create_conn
from aiokafka.errors import (
    KafkaError,
    SaslAuthenticationFailed,
    TopicAlreadyExistsError,
    UnsupportedSaslMechanismError,
)
from aiokafka.partitioner import DefaultPartitioner, murmur2

from shared.kafka_security import client_options as client_options
from shared.kafka_security import describe
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


class PublishTimeout(Exception):
    """Kafka did not acknowledge every record within the bound."""


class PublishFailed(Exception):
    """Kafka refused a record, or the producer could not be (re)started."""


@dataclass(frozen=True, slots=True)
class Record:
    """One record to publish: topic, key, value (None: a tombstone) and optional headers."""

    topic: str
    key: str
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()


# aiokafka's murmur2 is pure Python and runs for every record; keys (accounts) repeat, so the hash
# is worth remembering. Same function, same partitions as any other Kafka client's default.
_murmur2 = lru_cache(maxsize=65_536)(murmur2)
_random_partition = DefaultPartitioner()


def partition_for(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """Kafka's default partitioner (murmur2 of the key), with the hash of recent keys cached."""
    if key is None:
        chosen: int = _random_partition(key, all_partitions, available)
        return chosen
    index: int = _murmur2(key) & 0x7FFFFFFF
    return all_partitions[index % len(all_partitions)]


def build_producer(settings: ServiceSettings, *, client_id: str) -> AIOKafkaProducer:
    """A durable producer: ``acks="all"`` and idempotence (docs/architecture.md, "Processing guarantees")."""
    return AIOKafkaProducer(
        **client_options(settings),
        client_id=f"{settings.kafka_client_id_prefix}-{client_id}",
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        # aiokafka keeps one batch per partition open and one request per broker in flight; a
        # sender waits while its partition's batch is full. At the default 16 KiB, 32 clients
        # posting 100-event batches queued behind each other for up to seconds (docs/benchmarks.md).
        max_batch_size=262_144,
        partitioner=partition_for,
        request_timeout_ms=int(settings.kafka_request_timeout_s * 1000),
        compression_type=None,
    )


def build_reader(settings: ServiceSettings, *, client_id: str) -> AIOKafkaConsumer:
    """A consumer outside any group (no committed offsets), for reading a topic whole: the partitions
    are assigned by the caller."""
    return AIOKafkaConsumer(
        **client_options(settings),
        group_id=None,
        client_id=f"{settings.kafka_client_id_prefix}-{client_id}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        request_timeout_ms=int(settings.kafka_request_timeout_s * 1000),
    )


class DurablePublisher:
    """Publishes records and returns only once Kafka acknowledged all of them (acks=all).

    Starts lazily, so a service can boot while the broker is down and answer 503 until it is up.
    A fatal producer error closes the producer; the next publish starts a fresh one.
    """

    def __init__(self, settings: ServiceSettings, *, client_id: str) -> None:
        self._settings = settings
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _ensure_started(self, timeout_s: float) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is None:
                producer = build_producer(self._settings, client_id=self._client_id)
                try:
                    await asyncio.wait_for(producer.start(), timeout_s)
                except (TimeoutError, KafkaError, OSError) as exc:
                    await _quiet_stop(producer)
                    reason = await connection_problem(self._settings, timeout_s=timeout_s) or repr(exc)
                    raise PublishFailed(f"cannot connect to Kafka: {reason}") from exc
                self._producer = producer
            return self._producer

    async def publish(self, records: Sequence[Record], *, timeout_s: float) -> None:
        """Send every record and wait until all are acknowledged, or raise within ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        producer = await self._ensure_started(timeout_s)
        try:
            async with asyncio.timeout_at(deadline):
                futures = [
                    await producer.send(
                        r.topic,
                        value=r.value,
                        key=r.key.encode(),
                        headers=list(r.headers),
                    )
                    for r in records
                ]
                await asyncio.gather(*futures)
        except TimeoutError as exc:
            raise PublishTimeout(f"Kafka did not acknowledge {len(records)} record(s) in time") from exc
        except KafkaError as exc:
            if not exc.retriable:
                # A fatal error (e.g. OutOfOrderSequenceNumber) can leave the idempotent producer
                # stuck; start afresh on the next call.
                await self._reset(producer)
            raise PublishFailed(f"Kafka refused the write: {exc!r}") from exc

    async def _reset(self, producer: AIOKafkaProducer) -> None:
        async with self._lock:
            if self._producer is producer:
                self._producer = None
        await _quiet_stop(producer)

    async def probe(self, timeout_s: float = 2.0) -> bool:
        """True if the broker answers a metadata request within ``timeout_s``."""
        try:
            producer = await self._ensure_started(timeout_s)
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout_s)
        except (TimeoutError, KafkaError, PublishFailed, OSError):
            return False
        return True

    async def close(self) -> None:
        """Flush and stop the producer, if one was started."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await _quiet_stop(producer)


async def _quiet_stop(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), 10)
    except Exception:
        log.warning("kafka producer did not stop cleanly", exc_info=True)


KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
# The keys topic keeps the latest record per key id, and a tombstone (a deleted data key) removes the
# key's record soon: compaction may start at once, segments close within the hour so their records can
# be compacted, a record waits at most a day for the cleaner, and the tombstone itself goes a day later
# (docs/operations.md, "Personal data on the events topic").
COMPACTED_KEYS = {
    "cleanup.policy": "compact",
    "min.compaction.lag.ms": "0",
    "max.compaction.lag.ms": str(86_400_000),
    "segment.ms": str(3_600_000),
    "delete.retention.ms": str(86_400_000),
    "min.cleanable.dirty.ratio": "0.01",
}


def topic_configs(settings: ServiceSettings, topic: str) -> dict[str, str]:
    """The configuration a topic is created with: events and erasures forever, keys compacted, derived
    topics aged out."""
    if topic in (settings.topics.events, settings.topics.erasures):
        return dict(KEEP_FOREVER)
    if topic == settings.topics.keys:
        return dict(COMPACTED_KEYS)
    if topic in settings.topics.derived():
        return {"retention.ms": str(int(settings.kafka_derived_retention_s * 1000))}
    return {}


async def ensure_topics(settings: ServiceSettings, topics: Sequence[str], *, timeout_s: float = 30) -> None:
    """Create the topics that do not exist yet, with the configured partition count.

    The events topic is created with unlimited retention: it is the source of truth the analyzer's
    database can be rebuilt from (docs/operations.md), so no event may age out of it. So is the
    erasures topic: an erasure must outlive every copy of the records it erases. The keys topic
    is compacted, and the derived topics keep ``KAFKA_DERIVED_RETENTION_S`` (``topic_configs``).
    Topics that exist already are left as they are.
    """
    admin = AIOKafkaAdminClient(
        **client_options(settings),
        client_id=f"{settings.kafka_client_id_prefix}-admin",
        request_timeout_ms=int(timeout_s * 1000),
    )
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [
                NewTopic(
                    name=t,
                    num_partitions=settings.kafka_topic_partitions,
                    replication_factor=settings.kafka_replication_factor,
                    topic_configs=topic_configs(settings, t),
                )
                for t in missing
            ],
        )
        for topic, code, *message in response.topic_errors:
            # Per-topic errors come back in the response rather than raised; "already exists" means
            # another instance won the race, which is fine.
            if code not in (0, TopicAlreadyExistsError.errno):
                raise KafkaError(f"could not create topic {topic}: error {code} {message}")
        log.info("created kafka topics", extra={"topics": missing})
    finally:
        await admin.close()


async def connection_problem(settings: ServiceSettings, *, timeout_s: float = 5.0) -> str | None:
    """Why a client cannot connect, in words: one connection to the first bootstrap broker, with the
    settings' TLS and SASL, and its failure explained; None if that connection succeeds.

    aiokafka reports a failed start only as "Unable to bootstrap"; a refused password or an untrusted
    certificate deserves to be named as such. The result never holds the password.
    """
    options = client_options(settings)
    host, port, _ = collect_hosts(options.pop("bootstrap_servers"), randomize=False)[0]
    where = f"{host}:{port} ({describe(settings.kafka_security)})"
    try:
        async with asyncio.timeout(timeout_s):
            conn = await create_conn(host, port, request_timeout_ms=int(timeout_s * 1000), **options)
    except SaslAuthenticationFailed as exc:
        return f"the broker at {where} refused the credentials (KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD): {exc}"
    except UnsupportedSaslMechanismError as exc:
        return f"the broker at {where} does not offer KAFKA_SASL_MECHANISM: {exc}"
    except ssl.SSLCertVerificationError as exc:
        return (
            f"the TLS certificate of the broker at {where} is not trusted (KAFKA_SSL_CAFILE, and a certificate "
            f"that names the host): {exc.verify_message}"
        )
    except ssl.SSLError as exc:
        return f"the TLS handshake with the broker at {where} failed (does KAFKA_SECURITY_PROTOCOL match?): {exc}"
    except TimeoutError:
        return f"no answer from the broker at {where} within {timeout_s:g}s (does KAFKA_SECURITY_PROTOCOL match?)"
    except (KafkaError, OSError) as exc:
        return f"cannot connect to the broker at {where}: {exc!r}"
    conn.close()
    return None
