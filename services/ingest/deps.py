"""FastAPI dependencies of the ingest service, as ``Annotated`` aliases.

A request needs the app's settings, publisher and rate limiter, and the events routes a checked API
key. They come as one object (``Ingest``, built once per app) through a single ``async def``
dependency that reads only the request: the profile of the single-event path (docs/benchmarks.md)
showed FastAPI's dependency solving as a fifth of a request, and a plain ``def`` dependency, run in
the thread pool, costing more than the rest of the request together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from services.ingest.service import EventPublisher
from services.ingest.settings import IngestSettings
from shared.auth import bearer_token, require_api_key
from shared.authguard import AuthGuard
from shared.errors import RateLimited, Unauthorized
from shared.ratelimit import Limiter, retry_after


@dataclass(frozen=True, slots=True)
class Ingest:
    """What the routes work with, built once by ``create_app``."""

    settings: IngestSettings
    publisher: EventPublisher
    limiter: Limiter
    guard: AuthGuard

    def charge(self, client: str, events: int) -> None:
        """Take ``events`` tokens from the client's bucket or raise 429 with ``Retry-After``."""
        wait = self.limiter.acquire(client, events)
        if wait > 0:
            raise RateLimited(retry_after(wait))


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated call: the API key it presented, and the app's ``Ingest``."""

    key: str
    ingest: Ingest


async def get_ingest(request: Request) -> Ingest:
    """The app's ``Ingest``."""
    ingest: Ingest = request.app.state.ingest
    return ingest


def client_address(request: Request) -> str:
    """The client's address (already the forwarded one when the peer is a trusted proxy: ``ForwardedClient``)."""
    return request.client.host if request.client else "unknown"


async def authenticated_caller(request: Request) -> Caller:
    """The caller, its key checked in constant time against ``INGEST_API_KEYS``.

    401 for a wrong or missing key; 429 while the address or the presented key has spent its
    failures (``AuthGuard``).
    """
    ingest: Ingest = request.app.state.ingest
    header = request.headers.get("authorization")
    address, presented = client_address(request), bearer_token(header)
    ingest.guard.refuse_if_exhausted(address, presented)
    try:
        key = require_api_key(header, ingest.settings.ingest_api_keys)
    except Unauthorized:
        ingest.guard.failed(address, presented)
        raise
    return Caller(key, ingest)


IngestDep = Annotated[Ingest, Depends(get_ingest)]
CallerDep = Annotated[Caller, Depends(authenticated_caller)]
