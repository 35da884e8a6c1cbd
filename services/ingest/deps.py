"""FastAPI dependencies of the ingest service, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from services.ingest.ratelimit import Limiter, retry_after
from services.ingest.service import EventPublisher
from services.ingest.settings import IngestSettings
from shared.auth import require_api_key
from shared.errors import RateLimited


def get_settings(request: Request) -> IngestSettings:
    """The settings the app was created with."""
    settings: IngestSettings = request.app.state.settings
    return settings


def get_publisher(request: Request) -> EventPublisher:
    """The app's event publisher."""
    publisher: EventPublisher = request.app.state.publisher
    return publisher


def get_rate_limiter(request: Request) -> Limiter:
    """The app's rate limiter."""
    limiter: Limiter = request.app.state.rate_limiter
    return limiter


SettingsDep = Annotated[IngestSettings, Depends(get_settings)]
PublisherDep = Annotated[EventPublisher, Depends(get_publisher)]
RateLimiterDep = Annotated[Limiter, Depends(get_rate_limiter)]


def authenticated_client(
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """The caller's API key, checked in constant time against ``INGEST_API_KEYS`` (401 otherwise)."""
    return require_api_key(authorization, settings.ingest_api_keys)


ClientDep = Annotated[str, Depends(authenticated_client)]


def charge(limiter: Limiter, client: str, events: int) -> None:
    """Take ``events`` tokens from the client's bucket or raise 429 with ``Retry-After``."""
    wait = limiter.acquire(client, events)
    if wait > 0:
        raise RateLimited(retry_after(wait))
