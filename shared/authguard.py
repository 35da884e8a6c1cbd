"""Failed authentication, limited per client address and per presented key.

Every request that fails authentication (a wrong or missing API key, a vendor webhook whose
signature does not verify) takes a token from the bucket of its client address and, when it
presented a key, from that key's bucket. While either bucket is empty, requests from that address
(or with that key) are refused with 429 and ``Retry-After`` *before* any key is checked, so guessing
runs at the configured rate at most. A caller that authenticates never spends tokens. The client
address is the connection's peer, or the ``X-Forwarded-For`` client when the peer is a trusted proxy
(shared/proxies.py); IPv6 addresses count per /64. Ingest guards its API and vendor webhooks with
one, the analyzer its JSON API and its dashboard's sign-in.
"""

from __future__ import annotations

import hashlib

from prometheus_client import Counter

from shared.errors import RateLimited
from shared.proxies import client_network
from shared.ratelimit import Limiter, retry_after


class AuthGuard:
    """The failure budget of addresses and presented keys, over one ``Limiter``."""

    def __init__(self, limiter: Limiter, outcomes: Counter) -> None:
        self.limiter = limiter
        self.outcomes = outcomes

    @staticmethod
    def _buckets(address: str, credential: str | None) -> list[str]:
        buckets = [f"address:{client_network(address)}"]
        if credential:
            # A digest: the presented secret is never held beside the counters.
            buckets.append("key:" + hashlib.sha256(credential.encode()).hexdigest()[:16])
        return buckets

    def wait(self, address: str, credential: str | None) -> int:
        """0 while the address and the presented key have failures left, else whole seconds to wait."""
        wait = max(self.limiter.acquire(b, dry_run=True) for b in self._buckets(address, credential))
        if wait > 0:
            self.outcomes.labels("limited").inc()
            return retry_after(wait)
        return 0

    def refuse_if_exhausted(self, address: str, credential: str | None) -> None:
        """Raise 429 while the address or the presented key has no failures left to spend."""
        if wait := self.wait(address, credential):
            raise RateLimited(wait)

    def failed(self, address: str, credential: str | None) -> None:
        """Spend one failure of the address and of the presented key."""
        self.outcomes.labels("refused").inc()
        for bucket in self._buckets(address, credential):
            self.limiter.acquire(bucket)
