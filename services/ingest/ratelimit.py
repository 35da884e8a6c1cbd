"""Per-client token buckets: ``INGEST_RATE_LIMIT_PER_S`` sustained, ``..._BURST`` at once."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by client (API key or vendor); in-process, so per ingest instance."""

    def __init__(self, *, rate_per_s: float, burst: int, max_clients: int = 10_000) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, client: str, cost: int = 1, *, now: float | None = None) -> float:
        """Take ``cost`` tokens; return 0 if allowed, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._buckets.clear()  # bounded memory; clients start again with a full bucket
            bucket = self._buckets[client] = _Bucket(tokens=float(self.burst), updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        cost = min(cost, self.burst)  # a batch larger than the burst is allowed on a full bucket
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(wait_s: float) -> int:
        """Whole seconds for a ``Retry-After`` header (at least 1)."""
        return max(1, math.ceil(wait_s))
