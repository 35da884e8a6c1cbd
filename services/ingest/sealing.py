"""Sealing events before they are published: data keys per person, published to the keys topic first.

Each set of subjects (the person ids and identities a record names) gets a random data key, kept in
a bounded cache for ``PERSONAL_DATA_KEY_ROTATION_S``; a new key is published, wrapped with the
key-encryption key, on the keys topic and acknowledged (acks=all) before any record sealed with it is
sent. So whenever the analyzer reads a sealed record, its key is on the keys topic already, or was
deleted (docs/operations.md, "Personal data on the events topic").
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Final

from shared.events import Event, encode_event
from shared.kafka import DurablePublisher, Record
from shared.personal import DataKey, new_data_key, seal, subjects_of, wrap_key

KEY_CACHE_SIZE: Final = 50_000  # subject sets whose data key a process remembers


class KeyCache:
    """Data keys by subject set: least recently used first out, each used for at most ``max_age_s``."""

    def __init__(self, *, max_entries: int = KEY_CACHE_SIZE, max_age_s: float) -> None:
        self._entries: OrderedDict[frozenset[str], tuple[DataKey, float]] = OrderedDict()
        self._max_entries = max_entries
        self._max_age_s = max_age_s

    def get(self, subjects: frozenset[str]) -> DataKey | None:
        """The key for ``subjects`` if one is cached and young enough."""
        entry = self._entries.get(subjects)
        if entry is None:
            return None
        key, created = entry
        if time.monotonic() - created > self._max_age_s:
            del self._entries[subjects]
            return None
        self._entries.move_to_end(subjects)
        return key

    def put(self, subjects: frozenset[str], key: DataKey) -> None:
        """Remember ``key`` for ``subjects`` (dropping the least recently used entry when full)."""
        self._entries[subjects] = (key, time.monotonic())
        self._entries.move_to_end(subjects)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


class Sealer:
    """Encodes events for the events topic with their personal fields sealed."""

    def __init__(
        self,
        publisher: DurablePublisher,
        *,
        keys_topic: str,
        kek: bytes,
        rotation_s: float,
        max_keys: int = KEY_CACHE_SIZE,
    ) -> None:
        self._publisher = publisher
        self._keys_topic = keys_topic
        self._kek = kek
        self._cache = KeyCache(max_entries=max_keys, max_age_s=rotation_s)

    async def encode(self, events: Sequence[Event], *, timeout_s: float) -> list[bytes]:
        """Each event's record value, sealed; new data keys are published (and acknowledged) first.

        Every event gets its id from its plaintext content first (``encode_event``), so a retried body
        gets the same id whatever key seals it. Raises ``PublishTimeout``/``PublishFailed`` when a new
        key is not acknowledged; nothing is cached then.
        """
        records: list[tuple[bytes, dict[str, Any] | None, DataKey | None]] = []
        new_keys: dict[frozenset[str], DataKey] = {}
        for event in events:
            plain = encode_event(event)
            record = json.loads(plain)
            subjects = subjects_of(record)
            if not subjects:
                records.append((plain, None, None))  # nothing personal: the record goes as it is
                continue
            wanted = frozenset(subjects)
            key = new_keys.get(wanted) or self._cache.get(wanted)
            if key is None:
                key = new_keys[wanted] = new_data_key(subjects)
            records.append((plain, record, key))
        if new_keys:
            await self._publisher.publish(
                [Record(self._keys_topic, k.key_id, wrap_key(k, self._kek)) for k in new_keys.values()],
                timeout_s=timeout_s,
            )
            for wanted, key in new_keys.items():
                self._cache.put(wanted, key)
        return [
            plain
            if record is None or key is None
            else json.dumps(seal(record, key), separators=(",", ":"), ensure_ascii=False).encode()
            for plain, record, key in records
        ]
