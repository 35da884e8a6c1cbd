"""The analyzer's Kafka consumer: one database transaction per batch, offsets committed after it.

Semantics (docs/architecture.md, "Processing guarantees"): auto-commit is off; a batch of records is
applied in one transaction that also records every processed ``event_id`` and, per partition, the
next offset to apply (``repository/positions.py``); only after that commit are the offsets committed
to Kafka too. A crash at any point replays records whose effects are either all committed (the
ledger makes them no-ops) or all rolled back. A partition the group assigns is read from the position
the database recorded, not from Kafka's: a restored backup resumes exactly where its state stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.partitioner import murmur2
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.alerts import service as alert_service
from services.analyzer.db.engine import pin_for_unit_of_work
from services.analyzer.db.errors import is_conflict, is_outage
from services.analyzer.keyring import KeysUnavailable
from services.analyzer.outbox import repository as outbox
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.repository import positions
from services.analyzer.settings import AnalyzerSettings
from shared.kafka import client_options, connection_problem

log = logging.getLogger(__name__)

AfterCommit = Callable[[Sequence[str]], Awaitable[object]]
T = TypeVar("T")


@dataclass
class ConsumerStats:
    """Counters exposed on /metrics and used by tests to wait for progress."""

    batches: int = 0
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    shredded: int = 0  # sealed records whose data key was shredded (not applied, docs/operations.md)
    retries: int = 0
    restarts: int = 0
    unprocessable: int = 0  # records that could not even be dead-lettered (logged with their position)
    waiting_for: str | None = None  # what the consumer waits on, e.g. "database" during an outage
    assigned: set[TopicPartition] = field(default_factory=set)


async def caught_up(consumer: AIOKafkaConsumer) -> bool:
    """True when every assigned partition has been read up to its high-water mark."""
    assignment = consumer.assignment()
    if not assignment:
        return False
    for tp in assignment:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True


def partition_of(key: str, partitions: int) -> int:
    """The partition the producer's default partitioner puts ``key`` on (murmur2, as Kafka's Java client)."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


class _SerialRebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Lets a revocation wait until the batch in flight has committed its offsets, and marks newly
    assigned partitions to be moved to the positions the database recorded before they are read."""

    def __init__(self, lock: asyncio.Lock, stats: ConsumerStats, seek_due: set[TopicPartition]) -> None:
        self._lock = lock
        self._stats = stats
        self._seek_due = seek_due

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._lock:
            self._stats.assigned -= set(revoked)
            self._seek_due -= set(revoked)
        log.info("partitions revoked", extra={"partitions": sorted(str(tp) for tp in revoked)})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._stats.assigned |= set(assigned)
        self._seek_due |= set(assigned)
        log.info("partitions assigned", extra={"partitions": sorted(str(tp) for tp in assigned)})


class EventConsumer:
    """Consumes ``feedback.events.v1`` in the ``analyzer`` group and applies batches transactionally."""

    MAX_CONFLICT_RETRIES = 5

    def __init__(
        self,
        settings: AnalyzerSettings,
        sessions: async_sessionmaker[AsyncSession],
        processor: EventProcessor,
        *,
        after_commit: AfterCommit,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._processor = processor
        self._after_commit = after_commit
        self._lock = asyncio.Lock()
        self.stats = ConsumerStats()
        self._consumer: AIOKafkaConsumer | None = None
        # Open alerts a backfill held back are delivered once the member has caught up.
        self._backfill_due = True
        # Partitions assigned but not yet moved to the positions the database recorded.
        self._seek_due: set[TopicPartition] = set()

    def _build(self) -> AIOKafkaConsumer:
        s = self._settings
        return AIOKafkaConsumer(
            **client_options(s),
            group_id=s.analyzer_group_id,
            client_id=f"{s.kafka_client_id_prefix}-analyzer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_interval_ms=s.analyzer_max_poll_interval_ms,
            session_timeout_ms=s.analyzer_session_timeout_ms,
            heartbeat_interval_ms=max(1000, s.analyzer_session_timeout_ms // 3),
            request_timeout_ms=max(int(s.kafka_request_timeout_s * 1000), s.analyzer_session_timeout_ms + 5000),
            max_partition_fetch_bytes=1_048_576,
        )

    async def run(self) -> None:
        """Consume until cancelled; (re)connects with backoff while the broker is unreachable."""
        backoff = 0.5
        while True:
            consumer = self._build()
            try:
                await consumer.start()
            except (KafkaError, OSError) as exc:
                await consumer.stop()
                reason = await connection_problem(self._settings) or repr(exc)
                log.warning("kafka unreachable; retrying", extra={"reason": reason, "retry_in_s": backoff})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
                continue
            backoff = 0.5
            self._consumer = consumer
            self._seek_due.clear()
            listener = _SerialRebalance(self._lock, self.stats, self._seek_due)
            consumer.subscribe([self._settings.topics.events], listener=listener)
            try:
                await self._loop(consumer)
            except Exception:
                # Kafka or a bug outside any one record: start a fresh consumer from the committed
                # offsets rather than letting the process die (what was committed stays committed).
                self.stats.restarts += 1
                log.exception("consumer loop failed; restarting it", extra={"retry_in_s": backoff})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                self._consumer = None
                await consumer.stop()

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            if self._seek_due:
                await self._seek_to_recorded(consumer)
            batches = await consumer.getmany(
                timeout_ms=self._settings.analyzer_poll_timeout_ms,
                max_records=self._settings.analyzer_max_batch_records,
            )
            if not batches:
                await self._deliver_backfilled_if_caught_up(consumer)
                continue
            async with self._lock:
                # Records of partitions revoked while we polled belong to another member now, and
                # those of partitions assigned meanwhile were read from Kafka's offsets: re-read them
                # from the database's once it has been asked.
                batches = {
                    tp: recs for tp, recs in batches.items() if tp in consumer.assignment() and tp not in self._seek_due
                }
                if not batches:
                    continue
                outbox_ids = await self._apply_isolating([r for recs in batches.values() for r in recs])
                offsets = {tp: recs[-1].offset + 1 for tp, recs in batches.items()}
                try:
                    await consumer.commit(offsets)
                except CommitFailedError:
                    # The group rebalanced; the next owner replays these records as no-ops.
                    log.warning("offset commit failed after a rebalance; records will replay harmlessly")
                self._backfill_due = True
            await self._deliver_backfilled_if_caught_up(consumer)
            try:
                await self._after_commit(outbox_ids)
            except Exception:
                log.warning("publishing the outbox after commit failed; the sweep will retry", exc_info=True)

    async def _seek_to_recorded(self, consumer: AIOKafkaConsumer) -> None:
        """Move newly assigned partitions to the positions the database recorded with its state.

        A partition the database has no position for is read from its beginning (the records before
        are not in this state), except in a database that applied events before positions were
        recorded: there Kafka's committed offsets stand, and are recorded as its positions.
        """
        async with self._lock:
            due = self._seek_due & consumer.assignment()
            topic = self._settings.topics.events
            recorded, legacy = await self._wait_for_database(self._read_positions, topic)
            seeded: dict[tuple[str, int], int] = {}
            for tp in sorted(due, key=lambda t: (t.topic, t.partition)):
                if tp.partition in recorded:
                    consumer.seek(tp, recorded[tp.partition])
                elif legacy and (committed := await consumer.committed(tp)) is not None:
                    # Seek explicitly all the same: records fetched meanwhile were set aside.
                    consumer.seek(tp, committed)
                    seeded[(tp.topic, tp.partition)] = committed
                else:
                    await consumer.seek_to_beginning(tp)
            if seeded:
                await self._wait_for_database(self._seed_positions, seeded)
            self._seek_due -= due
        log.info(
            "partitions positioned",
            extra={"positions": {str(tp): recorded.get(tp.partition) for tp in sorted(due, key=str)}, "legacy": legacy},
        )

    async def _read_positions(self, topic: str) -> tuple[dict[int, int], bool]:
        async with self._sessions() as session:
            return await positions.recorded(session, topic), await positions.predates_positions(session)

    async def _seed_positions(self, seeded: dict[tuple[str, int], int]) -> None:
        async with self._sessions() as session, session.begin():
            await positions.advance(session, seeded)

    async def _wait_for_database(self, work: Callable[[Any], Awaitable[T]], argument: Any) -> T:
        """Run ``work(argument)``, retrying for as long as the database is unreachable."""
        delay = 0.1
        while True:
            try:
                result = await work(argument)
            except Exception as exc:
                if not is_outage(exc):
                    raise
                self.stats.waiting_for = "database"
                log.warning("database unreachable; retrying", extra={"retry_in_s": delay})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)
                continue
            self.stats.waiting_for = None
            return result

    async def _deliver_backfilled_if_caught_up(self, consumer: AIOKafkaConsumer) -> None:
        """Once every assigned partition is read to its end, deliver the open alerts history held back."""
        # A partition waiting to be moved to its recorded position may read as caught up (its records
        # were fetched, then set aside until the seek): not yet.
        if not self._backfill_due or self._seek_due or not await caught_up(consumer):
            return
        owns = self.owner_of_accounts()
        if owns is None:
            return
        async with self._lock, self._sessions() as session, session.begin():
            delivered = await alert_service.deliver_backfilled(session, topics=self._settings.topics, owns=owns)
            await session.flush()
            outbox_ids = outbox.enqueued(session)
        self._backfill_due = False
        if delivered:
            log.info("caught up: delivered the alerts a backfill left open", extra={"alerts": delivered})
        try:
            await self._after_commit(outbox_ids)
        except Exception:
            log.warning("publishing the outbox after commit failed; the sweep will retry", exc_info=True)

    async def _apply_isolating(self, records: list[ConsumerRecord[bytes, bytes]]) -> list[str]:
        """Apply ``records``; a failure that is not an outage is narrowed down to the record causing it.

        The batch is split in halves (the first half applied before the second, so each partition
        keeps its order) until the failing record stands alone; it then goes to the dead-letter
        topic with the error, and every other record is applied. No record can stop the consumer.
        """
        try:
            return await self._apply_with_retry(records)
        except Exception as exc:  # noqa: BLE001 - whatever a record causes, it must not stop consuming
            if len(records) == 1:
                return await self._dead_letter_alone(records[0], exc)
            middle = len(records) // 2
            first = await self._apply_isolating(records[:middle])
            return first + await self._apply_isolating(records[middle:])

    async def _apply_with_retry(self, records: list[ConsumerRecord[bytes, bytes]]) -> list[str]:
        """Apply a batch, waiting out database outages for as long as they last.

        A constraint clash (another member applied the same event during a rebalance) is retried a
        few times; any other error is raised for ``_apply_isolating`` to pin on a record.
        """
        delay = 0.1
        conflicts = 0
        while True:
            try:
                result = await self._apply(records)
            except Exception as exc:
                if is_conflict(exc) and conflicts < self.MAX_CONFLICT_RETRIES:
                    conflicts += 1
                elif not (is_outage(exc) or isinstance(exc, KeysUnavailable)):
                    raise
                self.stats.retries += 1
                # The keys topic unreadable is no record's fault either: wait for it as for the database.
                self.stats.waiting_for = (
                    "database" if is_outage(exc) else "keys" if isinstance(exc, KeysUnavailable) else None
                )
                log.warning(
                    "batch rolled back; retrying",
                    extra={"reason": f"{type(exc).__name__}: {str(exc)[:300]}", "retry_in_s": delay},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)
                continue
            self.stats.waiting_for = None
            return result

    async def _dead_letter_alone(self, record: ConsumerRecord[bytes, bytes], exc: Exception) -> list[str]:
        """Send one record that failed on its own to the dead-letter topic, in a transaction of its own."""
        meta = RecordMeta.of(record)
        log.error(
            "record failed on its own; dead-lettering it",
            extra={"record": meta.position, "reason": f"{type(exc).__name__}: {str(exc)[:300]}"},
            exc_info=exc,
        )
        reason = f"{type(exc).__name__}: {exc}"
        delay = 0.1
        while True:
            try:
                async with self._sessions() as session, session.begin():
                    outcome = await self._processor.dead_letter(session, record.value or b"", meta, reason=reason)
                    await session.flush()
                    outbox_ids = outbox.enqueued(session)
            except Exception as failure:  # noqa: BLE001 - nothing a record causes may stop consuming
                if not is_outage(failure):
                    # Not even its dead letter can be written: skip it loudly rather than stop
                    # consuming. The record stays in the topic at the logged position.
                    self.stats.unprocessable += 1
                    log.critical(
                        "record could not be dead-lettered; skipped",
                        extra={"record": meta.position, "reason": f"{type(failure).__name__}: {failure}"},
                    )
                    return []
                self.stats.waiting_for = "database"
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)
                continue
            self.stats.waiting_for = None
            if outcome == "dead_lettered":
                self.stats.dead_lettered += 1
            return outbox_ids

    async def _apply(self, records: list[ConsumerRecord[bytes, bytes]]) -> list[str]:
        outcomes: dict[str, int] = {}
        async with self._sessions() as session, session.begin():
            pin_for_unit_of_work(session)
            metas = [RecordMeta.of(r) for r in records]
            for outcome in await self._processor.process_batch(
                session, [(r.value or b"", m) for r, m in zip(records, metas, strict=True)]
            ):
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            await session.flush()
            outbox_ids = outbox.enqueued(session)
        self.stats.batches += 1
        self.stats.applied += outcomes.get("applied", 0)
        self.stats.duplicates += outcomes.get("duplicate", 0)
        self.stats.dead_lettered += outcomes.get("dead_lettered", 0)
        self.stats.shredded += outcomes.get("shredded", 0)
        return list(dict.fromkeys(outbox_ids))

    def owner_of_accounts(self) -> Callable[[str], bool] | None:
        """Whether an account's events reach this member: its key hashes onto an assigned partition.

        None while the member holds no partition of the events topic (or is not connected). Uses
        the producer's default partitioner, so it matches the key ingest publishes with.
        """
        consumer = self._consumer
        topic = self._settings.topics.events
        held = {tp.partition for tp in self.stats.assigned if tp.topic == topic}
        partitions = consumer.partitions_for_topic(topic) if consumer is not None else None
        if not held or not partitions:
            return None
        count = len(partitions)
        return lambda account_id: partition_of(account_id, count) in held

    @property
    def kafka_consumer(self) -> AIOKafkaConsumer | None:
        """The Kafka consumer while one is started (services/analyzer/lag.py measures with it)."""
        return self._consumer

    @property
    def connected(self) -> bool:
        """True while the consumer is started and polling."""
        return self._consumer is not None
