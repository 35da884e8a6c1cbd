"""The analyzer's key ring: the data keys of the keys topic, to open sealed records, and to shred them.

The ring reads the whole keys topic (every partition from its beginning, in no consumer group) and
keeps key id -> (subjects, data key); a tombstone (null value) removes a key. Ingest publishes a key,
acknowledged, before any record sealed with it, so a key id still unknown after the ring has read the
topic up to its current end was deleted: the records sealed with it read as anonymous.
``shred_subjects`` deletes every key of a person (docs/operations.md, "Personal data on the events topic").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Final

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from shared.kafka import DurablePublisher, PublishFailed, PublishTimeout, Record, build_reader
from shared.personal import DataKey, SealError, kek_fingerprint, subject_matches, unwrap_key
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# A key ring that has read the topic this recently trusts what it holds; older, it reads again first,
# so a key another analyzer deleted is dropped here too.
REFRESH_S: Final = 10.0


class KeysUnavailable(Exception):
    """The keys topic cannot be read (or written) right now: an outage, to wait out, not a record's fault."""


class KeyRing:
    """Data keys by id, read from the keys topic; deletes (shreds) the keys of a person."""

    def __init__(
        self,
        settings: ServiceSettings,
        publisher: DurablePublisher,
        *,
        client_id: str = "keyring",
        timeout_s: float | None = None,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self._settings = settings
        self._publisher = publisher
        self._client_id = client_id
        self._topic = settings.topics.keys
        self._kek = settings.personal_data_kek
        self._timeout_s = timeout_s if timeout_s is not None else 3 * settings.kafka_request_timeout_s
        self._refresh_s = refresh_s
        self._keys: dict[str, DataKey] = {}
        # Key records that are there but cannot be read (another KEK, tampered): id -> why.
        self._broken: dict[str, str] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []
        self._lock = asyncio.Lock()
        self._read_at: float | None = None

    async def start(self) -> None:
        """Connect and read the keys topic to its end; ``KeysUnavailable`` if Kafka cannot be reached."""
        async with self._lock:
            await self._catch_up()

    async def close(self) -> None:
        """Stop the consumer, if started."""
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            try:
                await asyncio.wait_for(consumer.stop(), 10)
            except Exception:
                log.warning("key ring consumer did not stop cleanly", exc_info=True)

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, key_id: str) -> DataKey | None:
        """The data key ``key_id``, or None when it is not known (after ``ensure``: shredded).

        Raises ``SealError`` for a key whose record is on the topic but cannot be read.
        """
        if key_id in self._broken:
            raise SealError(f"data key {key_id} cannot be read: {self._broken[key_id]}")
        return self._keys.get(key_id)

    async def ensure(self, key_ids: Iterable[str]) -> None:
        """Make ``lookup`` final for ``key_ids``: read the topic to its current end if any id is unknown.

        An id still unknown afterwards was shredded. Also reads on when the ring last read more than
        ``refresh_s`` ago, so a key deleted by another analyzer is not used here.
        """
        wanted = set(key_ids)
        if not wanted:
            return
        async with self._lock:
            stale = self._read_at is None or time.monotonic() - self._read_at > self._refresh_s
            if stale or any(k not in self._keys and k not in self._broken for k in wanted):
                await self._catch_up()

    async def shred_subjects(self, ids: Iterable[str]) -> int:
        """Delete every data key that seals records of any of ``ids`` (person ids, e-mails, aliases).

        Reads the topic to its end first, publishes a tombstone for each matching key (acks=all) and
        forgets the keys; returns how many were deleted. E-mail addresses compare case-insensitively.
        Raises ``KeysUnavailable`` when Kafka does not answer or acknowledge (nothing is forgotten
        then; calling again is safe).
        """
        wanted = [i for i in ids if i]
        if not wanted:
            return 0
        async with self._lock:
            await self._catch_up()
            doomed = [k for k in self._keys.values() if any(subject_matches(s, wanted) for s in k.subjects)]
            if not doomed:
                return 0
            try:
                await self._publisher.publish(
                    [Record(self._topic, key.key_id, None) for key in doomed], timeout_s=self._timeout_s
                )
            except (PublishTimeout, PublishFailed) as exc:
                raise KeysUnavailable(f"the key deletions were not acknowledged: {exc}") from exc
            for key in doomed:
                self._keys.pop(key.key_id, None)
        log.info("data keys shredded", extra={"keys": len(doomed)})
        return len(doomed)

    async def _started(self) -> AIOKafkaConsumer:
        if self._consumer is not None:
            return self._consumer
        consumer = build_reader(self._settings, client_id=self._client_id)
        try:
            await asyncio.wait_for(consumer.start(), self._timeout_s)
            # The topic's partitions (aiokafka has no public call for a topic no one subscribes to).
            cluster = await asyncio.wait_for(consumer._client.fetch_all_metadata(), self._timeout_s)
        except (TimeoutError, KafkaError, OSError) as exc:
            await _quiet_stop(consumer)
            raise KeysUnavailable(f"cannot connect to Kafka for the keys topic: {exc!r}") from exc
        partitions = sorted(cluster.partitions_for_topic(self._topic) or ())
        if not partitions:
            await _quiet_stop(consumer)
            raise KeysUnavailable(f"the keys topic {self._topic!r} does not exist")
        self._partitions = [TopicPartition(self._topic, p) for p in partitions]
        consumer.assign(self._partitions)
        await consumer.seek_to_beginning(*self._partitions)
        self._consumer = consumer
        log.info(
            "key ring reading the keys topic",
            extra={"topic": self._topic, "partitions": len(partitions), "kek": kek_fingerprint(self._kek)},
        )
        return consumer

    async def _catch_up(self) -> None:
        """Read every partition up to the end offsets it has now (the caller holds the lock)."""
        consumer = await self._started()
        try:
            async with asyncio.timeout(self._timeout_s):
                ends = await consumer.end_offsets(self._partitions)
                while pending := [tp for tp in self._partitions if await consumer.position(tp) < ends[tp]]:
                    fetched = await consumer.getmany(*pending, timeout_ms=200)
                    for records in fetched.values():
                        for record in records:
                            self._take(record)
        except (TimeoutError, KafkaError, OSError) as exc:
            # Start afresh next time: the consumer may be stuck on a broker that went away.
            self._consumer = None
            await _quiet_stop(consumer)
            self._keys.clear()
            self._broken.clear()
            self._read_at = None
            raise KeysUnavailable(f"the keys topic could not be read to its end: {exc!r}") from exc
        self._read_at = time.monotonic()

    def _take(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if record.key is None:
            return
        key_id = record.key.decode(errors="replace")
        self._broken.pop(key_id, None)
        if record.value is None:
            self._keys.pop(key_id, None)  # a tombstone: the key was shredded
            return
        try:
            self._keys[key_id] = unwrap_key(key_id, record.value, self._kek)
        except SealError as exc:
            self._keys.pop(key_id, None)
            self._broken[key_id] = str(exc)
            log.error(
                "a data key on the keys topic cannot be read; records sealed with it are dead-lettered",
                extra={"key_id": key_id, "partition": record.partition, "offset": record.offset, "reason": str(exc)},
            )


async def _quiet_stop(consumer: AIOKafkaConsumer) -> None:
    try:
        await asyncio.wait_for(consumer.stop(), 10)
    except Exception:
        log.warning("key ring consumer did not stop cleanly", exc_info=True)
