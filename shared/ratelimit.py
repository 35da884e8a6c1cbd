"""Per-client token buckets: a sustained rate and a burst (events per API key, failed authentications).

One process keeps its buckets in a dict (``RateLimiter``). Several ingest worker processes
(``INGEST_WORKERS`` > 1) keep them in one file that every worker maps into memory
(``SharedRateLimiter``), so that a client gets the configured limit in total, not once per worker.
Both hold a bounded number of clients and give the least recently used one's place to a new client:
a client that keeps coming back keeps its bucket, whatever the number of other clients.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import struct
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class Limiter(Protocol):
    """What the routes need of a rate limiter."""

    def acquire(self, client: str, cost: int = 1, *, now: float | None = None, dry_run: bool = False) -> float:
        """Take ``cost`` tokens; return 0 if allowed, else the seconds until it would be.

        With ``dry_run`` nothing is taken: the answer says whether it would be allowed.
        """
        ...


def take(tokens: float, updated: float, *, now: float, rate: float, burst: int, cost: int) -> tuple[float, float]:
    """Refill a bucket to ``now`` and try to take ``cost``: (tokens left, seconds to wait or 0)."""
    tokens = min(burst, tokens + max(0.0, now - updated) * rate)
    cost = min(cost, burst)  # a batch larger than the burst is allowed on a full bucket
    if tokens >= cost:
        return tokens - cost, 0.0
    return tokens, (cost - tokens) / rate


def retry_after(wait_s: float) -> int:
    """Whole seconds for a ``Retry-After`` header (at least 1)."""
    return max(1, math.ceil(wait_s))


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by client (API key digest or vendor), held by this process."""

    def __init__(self, *, rate_per_s: float, burst: int, max_clients: int = 10_000) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()  # least recently used first

    def acquire(self, client: str, cost: int = 1, *, now: float | None = None, dry_run: bool = False) -> float:
        """Take ``cost`` tokens; return 0 if allowed, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(client)
        if dry_run:
            tokens, updated = (bucket.tokens, bucket.updated) if bucket else (float(self.burst), now)
            return take(tokens, updated, now=now, rate=self.rate, burst=self.burst, cost=cost)[1]
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                # Bounded memory. Clearing everything would hand every client a full bucket again,
                # one that had spent its budget included; the least recently used bucket is the
                # likeliest to have refilled anyway.
                self._buckets.popitem(last=False)
            bucket = self._buckets[client] = _Bucket(tokens=float(self.burst), updated=now)
        else:
            self._buckets.move_to_end(client)
        bucket.tokens, wait = take(bucket.tokens, bucket.updated, now=now, rate=self.rate, burst=self.burst, cost=cost)
        bucket.updated = now
        return wait


class SharedRateLimiter:
    """Token buckets in a memory-mapped file shared by the worker processes of one ingest.

    The file is a fixed table of slots (client digest, tokens, last update), found by hashing with a
    short linear probe; when every slot of the probe is taken, the least recently used one is given
    to the new client, which starts with a full bucket (as ``RateLimiter`` does when full). Each
    acquire holds an exclusive ``flock`` for a few microseconds. ``time.monotonic`` is the system's
    monotonic clock, the same in every process.
    """

    _SLOT = struct.Struct("<16sdd")
    _PROBE = 16
    _EMPTY = bytes(16)

    def __init__(self, path: Path, *, rate_per_s: float, burst: int, slots: int = 16_384) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.slots = slots
        size = slots * self._SLOT.size
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        with _locked(self._fd):
            if os.fstat(self._fd).st_size < size:
                os.ftruncate(self._fd, size)  # zero-filled: every slot empty
        self._map = mmap.mmap(self._fd, size)

    def acquire(self, client: str, cost: int = 1, *, now: float | None = None, dry_run: bool = False) -> float:
        """Take ``cost`` tokens; return 0 if allowed, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        digest = hashlib.blake2b(client.encode(), digest_size=16).digest()
        start = int.from_bytes(digest[:8], "little") % self.slots
        with _locked(self._fd):
            offset, tokens, updated = self._find(digest, start, now)
            tokens, wait = take(tokens, updated, now=now, rate=self.rate, burst=self.burst, cost=cost)
            if not dry_run:
                self._SLOT.pack_into(self._map, offset, digest, tokens, now)
        return wait

    def _find(self, digest: bytes, start: int, now: float) -> tuple[int, float, float]:
        """The slot of ``digest`` with its bucket, or a free (else least recently used) slot, full."""
        free: int | None = None
        oldest, oldest_time = start, math.inf
        for step in range(self._PROBE):
            offset = ((start + step) % self.slots) * self._SLOT.size
            key, tokens, updated = self._SLOT.unpack_from(self._map, offset)
            if key == digest:
                return offset, tokens, updated
            if key == self._EMPTY:
                free = offset if free is None else free
            elif updated < oldest_time:
                oldest, oldest_time = offset, updated
        return (oldest if free is None else free), float(self.burst), now

    def close(self) -> None:
        """Unmap the table and close its file."""
        self._map.close()
        os.close(self._fd)


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``fd`` for the ``with`` block."""
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
