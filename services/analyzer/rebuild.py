"""Rebuild the analyzer's database from the events topic: the recovery path after losing it.

Every record of ``feedback.events.v1``, from the beginning of each partition up to the end it had when
the rebuild started, is applied to a fresh database by the same processing the live consumer uses
(the same batches, evaluations and ledger), so the result has the same accounts, positions and
alerts as the lost database had. Nothing leaves the rebuild: it joins no consumer group and commits
no offsets, the records it would publish are dropped (the topics hold them already), and no
webhook is sent (the fresh database has no subscriptions, and every alert counts as told, since the
CRMs were told before the loss). It needs the topic to hold every event: retention must be
unlimited (``retention.ms=-1``) or the rebuild refuses, unless told to accept what is left. Sealed
personal data is opened with the keys of the keys topic; a record whose key was shredded (an erased
person) reads as anonymous, exactly as the live analyzer reads it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.alerts import repository as alert_repository
from services.analyzer.assessment import ModelConfig
from services.analyzer.db.engine import create_engine, create_sessionmaker
from services.analyzer.keyring import KeyRing, KeysUnavailable
from services.analyzer.outbox import repository as outbox_repository
from services.analyzer.people import topic as erasures_topic
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.repository import ledger
from services.analyzer.settings import AnalyzerSettings
from shared.kafka import DurablePublisher, client_options, connection_problem

log = logging.getLogger(__name__)

# Records applied per transaction. The processor loads and writes back each account's state once per
# batch, so larger batches cost less per event: measured on PostgreSQL, 5,000 records a batch apply
# about 1.75 times as fast as 500 (docs/benchmarks.md, "The rebuild") for a few tens of MiB more.
DEFAULT_BATCH_RECORDS = 5_000
# The time left is estimated from the rate over this last stretch, not since the start: the rate
# drifts as accounts accumulate history, and a pause (a slow fetch, a failed batch) should fade out.
RATE_WINDOW_S = 30.0


class RebuildError(RuntimeError):
    """The rebuild cannot start or cannot be trusted (say why)."""


@dataclass
class Progress:
    """How far a rebuild has come."""

    applied: int  # records read and applied (including duplicates and dead letters)
    total: int  # records to read
    elapsed_s: float
    recent_rate: float = 0.0  # records per second over the last RATE_WINDOW_S (0: not known yet)

    @property
    def rate(self) -> float:
        """Records per second so far."""
        return self.applied / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def left_s(self) -> float | None:
        """Seconds left at the recent rate (the overall rate until there is one); None if unknown."""
        left = self.total - self.applied
        if left <= 0:
            return 0.0
        rate = self.recent_rate or self.rate
        return left / rate if rate > 0 else None


class RecentRate:
    """Records per second over the last ``window_s`` seconds, from (time, records done) samples."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, at_s: float, done: int) -> float:
        """Record that ``done`` records were done at ``at_s``; return the rate over the window."""
        self._samples.append((at_s, done))
        # Keep one sample at or before the window's start, so the window is always fully covered.
        while len(self._samples) > 2 and self._samples[1][0] <= at_s - self.window_s:
            self._samples.popleft()
        first_s, first_done = self._samples[0]
        return (done - first_done) / (at_s - first_s) if at_s > first_s else 0.0


@dataclass
class Report:
    """What a finished rebuild did."""

    records: int
    outcomes: dict[str, int]
    elapsed_s: float
    partitions: int


async def _is_empty(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether the database has processed no event yet."""
    async with sessions() as session:
        return await ledger.is_empty(session)


async def _open(settings: AnalyzerSettings) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        group_id=None,  # no group, no committed offsets: the live analyzer's place is untouched
        client_id=f"{settings.kafka_client_id_prefix}-rebuild",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        # Fetch ahead generously: a batch of thousands of records should not wait on many round trips.
        max_partition_fetch_bytes=4 * 1_048_576,
    )
    try:
        await consumer.start()
    except (KafkaError, OSError) as exc:
        await consumer.stop()
        reason = await connection_problem(settings) or repr(exc)
        raise RebuildError(f"cannot connect to Kafka: {reason}") from exc
    topic = settings.topics.events
    # The cluster's metadata, topics and partitions included (aiokafka offers no public call for a
    # topic the consumer is not subscribed to).
    cluster = await consumer._client.fetch_all_metadata()
    partitions = sorted(cluster.partitions_for_topic(topic) or ())
    if not partitions:
        await consumer.stop()
        raise RebuildError(f"the events topic {topic!r} does not exist on {settings.kafka_bootstrap_servers}")
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(tps)
    return consumer, tps


async def rebuild(
    settings: AnalyzerSettings,
    *,
    allow_partial: bool = False,
    batch_records: int = DEFAULT_BATCH_RECORDS,
    on_progress: Callable[[Progress], None] | None = None,
) -> Report:
    """Replay the events topic into ``settings.database_url`` (migrated, empty); return what happened.

    Records are applied ``batch_records`` at a time, each batch in one transaction.
    """
    if batch_records < 1:
        raise ValueError(f"batch_records must be at least 1, not {batch_records}")
    engine = create_engine(settings.database_url, writer=True)
    sessions = create_sessionmaker(engine)
    consumer: AIOKafkaConsumer | None = None
    publisher = DurablePublisher(settings, client_id="rebuild")  # never started: a rebuild writes nothing
    keyring: KeyRing | None = None
    try:
        if not await _is_empty(sessions):
            raise RebuildError("the database already holds processed events: rebuild into a fresh, empty database")
        consumer, tps = await _open(settings)
        begins = await consumer.beginning_offsets(tps)
        ends = await consumer.end_offsets(tps)
        lost = {tp.partition: offset for tp, offset in begins.items() if offset > 0}
        if lost and not allow_partial:
            raise RebuildError(
                "the events topic no longer starts at offset 0 on partitions "
                + ", ".join(f"{p} (first offset {o})" for p, o in sorted(lost.items()))
                + ": retention deleted events, and a rebuild would miss them. Keep the topic's retention "
                "unlimited (retention.ms=-1), or pass --allow-partial to rebuild from what is left"
            )
        await consumer.seek_to_beginning(*tps)
        total = sum(ends[tp] - begins[tp] for tp in tps)
        # Everything counts as history; nothing is delivered while rebuilding.
        config = ModelConfig(
            timedelta(days=settings.model_half_life_days), settings.thresholds, news_horizon=timedelta(0)
        )
        # Opens sealed personal data; a record whose key was shredded is read as anonymous.
        keyring = KeyRing(settings, publisher, client_id="rebuild-keyring")
        processor = EventProcessor(
            settings.topics,
            config,
            time_policy=settings.time_policy,
            trusted_link_sources=settings.trust_link_parameters,
            keyring=keyring,
        )
        # The erasures first: a record about an erased person, published before the erasure, is skipped.
        await erasures_topic.catch_up(settings, sessions, processor.assessor)
        outcomes: dict[str, int] = {}
        started = time.monotonic()
        recent = RecentRate()
        recent.add(started, 0)
        done = 0
        remaining = {tp for tp in tps if ends[tp] > begins[tp]}
        while remaining:
            records = await _next_batch(consumer, remaining, ends, batch_records)
            if not records:
                continue
            try:
                applied = await _apply(sessions, processor, records)
            except KeysUnavailable as exc:
                raise RebuildError(f"sealed records cannot be read: {exc}") from exc
            for outcome in applied:
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            done += len(records)
            if on_progress is not None:
                now = time.monotonic()
                on_progress(Progress(done, total, now - started, recent.add(now, done)))
        await _settle(sessions)
        return Report(done, outcomes, time.monotonic() - started, len(tps))
    finally:
        if consumer is not None:
            await consumer.stop()
        if keyring is not None:
            await keyring.close()
        await publisher.close()
        await engine.dispose()


async def _next_batch(
    consumer: AIOKafkaConsumer,
    remaining: set[TopicPartition],
    ends: dict[TopicPartition, int],
    batch_records: int,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Up to ``batch_records`` records below the ends, each partition in order.

    One ``getmany`` returns at most what the consumer has fetched so far, so several are gathered
    until the batch is full or nothing more arrives. A partition read up to its end leaves ``remaining``.
    """
    records: list[ConsumerRecord[bytes, bytes]] = []
    while remaining and len(records) < batch_records:
        fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch_records - len(records))
        for tp, recs in fetched.items():
            records += [r for r in recs if r.offset < ends[tp]]
            if recs and recs[-1].offset + 1 >= ends[tp]:
                remaining.discard(tp)
        if not fetched:
            break
    return records


async def _apply(
    sessions: async_sessionmaker[AsyncSession],
    processor: EventProcessor,
    records: Sequence[ConsumerRecord[bytes, bytes]],
) -> list[str]:
    """One batch in one transaction; if it fails, narrow the failure down as the live consumer does."""
    metas = [(r.value or b"", RecordMeta.of(r)) for r in records]
    try:
        async with sessions() as session, session.begin():
            return await processor.process_batch(session, metas)
    except KeysUnavailable:
        raise  # Kafka's fault, not a record's: the rebuild stops
    except Exception as exc:  # a record's fault: find it
        log.warning("a batch of %d records failed; narrowing it down to the record at fault", len(metas), exc_info=True)
        return await _isolate(sessions, processor, metas, exc)


async def _isolate(
    sessions: async_sessionmaker[AsyncSession],
    processor: EventProcessor,
    metas: list[tuple[bytes, RecordMeta]],
    failure: Exception,
) -> list[str]:
    """Apply records that failed together (with ``failure``) in halves, the first before the second so
    each partition keeps its order, until a failing record stands alone: it is dead-lettered with its
    error, as live, and every other record is applied.

    With batches of thousands, one bad record costs a couple of dozen transactions, not one per record.
    """
    if len(metas) == 1:
        [(raw, meta)] = metas
        reason = f"{type(failure).__name__}: {failure}"
        async with sessions() as session, session.begin():
            return [await processor.dead_letter(session, raw, meta, reason=reason)]
    middle = len(metas) // 2
    outcomes: list[str] = []
    for half in (metas[:middle], metas[middle:]):
        try:
            async with sessions() as session, session.begin():
                outcomes += await processor.process_batch(session, half)
        except KeysUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - narrowed down further
            outcomes += await _isolate(sessions, processor, half, exc)
    return outcomes


async def _settle(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Drop what the rebuild would publish, and count every alert as told (the CRMs were, before)."""
    async with sessions() as session, session.begin():
        await outbox_repository.drop_all(session)
        await alert_repository.mark_all_told(session)
