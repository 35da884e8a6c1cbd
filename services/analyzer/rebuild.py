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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
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


class RebuildError(RuntimeError):
    """The rebuild cannot start or cannot be trusted (say why)."""


@dataclass
class Progress:
    """How far a rebuild has come."""

    applied: int  # records read and applied (including duplicates and dead letters)
    total: int  # records to read
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Records per second so far."""
        return self.applied / self.elapsed_s if self.elapsed_s > 0 else 0.0


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
    batch_records: int = 500,
    on_progress: Callable[[Progress], None] | None = None,
) -> Report:
    """Replay the events topic into ``settings.database_url`` (migrated, empty); return what happened."""
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
        done = 0
        remaining = {tp for tp in tps if ends[tp] > begins[tp]}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch_records)
            records = []
            for tp, recs in fetched.items():
                records += [r for r in recs if r.offset < ends[tp]]
                if recs and recs[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
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
                on_progress(Progress(done, total, time.monotonic() - started))
        await _settle(sessions)
        return Report(done, outcomes, time.monotonic() - started, len(tps))
    finally:
        if consumer is not None:
            await consumer.stop()
        if keyring is not None:
            await keyring.close()
        await publisher.close()
        await engine.dispose()


async def _apply(
    sessions: async_sessionmaker[AsyncSession], processor: EventProcessor, records: list[object]
) -> list[str]:
    """One batch in one transaction; if it fails, record by record, dead-lettering what fails alone."""
    metas = [(r.value or b"", RecordMeta.of(r)) for r in records]  # type: ignore[attr-defined]
    try:
        async with sessions() as session, session.begin():
            return await processor.process_batch(session, metas)
    except KeysUnavailable:
        raise  # Kafka's fault, not a record's: the rebuild stops
    except Exception:
        log.warning("a batch failed; applying its records one by one", exc_info=True)
    outcomes = []
    for raw, meta in metas:
        try:
            async with sessions() as session, session.begin():
                outcomes += await processor.process_batch(session, [(raw, meta)])
        except KeysUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - the record's own fault: dead-letter it, as live
            async with sessions() as session, session.begin():
                outcomes.append(await processor.dead_letter(session, raw, meta, reason=f"{type(exc).__name__}: {exc}"))
    return outcomes


async def _settle(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Drop what the rebuild would publish, and count every alert as told (the CRMs were, before)."""
    async with sessions() as session, session.begin():
        await outbox_repository.drop_all(session)
        await alert_repository.mark_all_told(session)
