"""Failed sign-ins, limited per client address: key guessing runs at a bounded rate.

Each address may fail ``burst`` times at once and ``per_minute`` times a minute after that (a token
bucket); while its bucket is empty the login form answers 429 before any key is checked. Signing in
successfully spends nothing. The buckets live in this process, at most ``max_addresses`` of them
(the fullest, least useful ones are dropped first when that bound is reached).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class LoginThrottle:
    """Per-address budget of failed sign-ins."""

    def __init__(self, *, per_minute: float = 10.0, burst: int = 10, max_addresses: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.max_addresses = max_addresses
        self._buckets: dict[str, _Bucket] = {}

    def _level(self, address: str, now: float) -> float:
        bucket = self._buckets.get(address)
        if bucket is None:
            return float(self.burst)
        return min(float(self.burst), bucket.tokens + max(0.0, now - bucket.updated) * self.rate)

    def retry_after(self, address: str, *, now: float) -> int:
        """0 if the address may try now, else whole seconds until it may (at least 1)."""
        level = self._level(address, now)
        return 0 if level >= 1 else max(1, math.ceil((1 - level) / self.rate))

    def failed(self, address: str, *, now: float) -> None:
        """Spend one failure of the address."""
        level = self._level(address, now)
        if address not in self._buckets and len(self._buckets) >= self.max_addresses:
            # Forget the address closest to a full bucket: it has the least to remember.
            fullest = max(self._buckets, key=lambda a: self._level(a, now))
            del self._buckets[fullest]
        self._buckets[address] = _Bucket(tokens=max(0.0, level - 1), updated=now)
