"""FastAPI dependencies of the analyzer API, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Final

from fastapi import Depends, Header, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.keys import SCOPES, ApiKey, find_key
from services.analyzer.settings import AnalyzerSettings
from shared.auth import bearer_token
from shared.authguard import AuthGuard
from shared.errors import ErrorBody, Forbidden, Unauthorized


def get_settings(request: Request) -> AnalyzerSettings:
    """The settings the app was created with."""
    settings: AnalyzerSettings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed on success, rolled back on error."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session, session.begin():
        yield session


async def get_writer_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction on the writer engine, for calls that write.

    On SQLite the API engine's deferred BEGIN fails at once with "database is locked" when it
    upgrades a read to a write while the consumer or dispatcher has written since; the writer engine
    takes the lock at BEGIN and waits on the busy timeout instead.
    """
    sessions: async_sessionmaker[AsyncSession] = request.app.state.writer_sessions
    async with sessions() as session, session.begin():
        yield session


SettingsDep = Annotated[AnalyzerSettings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
WriterSessionDep = Annotated[AsyncSession, Depends(get_writer_session)]


def client_address(request: Request) -> str:
    """The client's address (the forwarded one when the peer is a trusted proxy: ``ForwardedClient``)."""
    return request.client.host if request.client else "unknown"


def authenticated_key(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> ApiKey:
    """The caller's key, checked in constant time against ``ANALYZER_API_KEYS``.

    401 for a wrong or missing key; 429 while the address or the presented key has spent its
    failures (``AuthGuard``, shared with the dashboard's sign-in).
    """
    guard: AuthGuard = request.app.state.auth_guard
    address, presented = client_address(request), bearer_token(authorization)
    guard.refuse_if_exhausted(address, presented)
    key = find_key(presented, settings.analyzer_api_keys) if presented is not None else None
    if key is None:
        guard.failed(address, presented)
        raise Unauthorized()
    return key


def require_scope(scope: str) -> Callable[..., ApiKey]:
    """A dependency that answers 403 unless the (valid) caller's key has ``scope``; it returns the key.

    Use it as ``key: Annotated[ApiKey, Depends(require_scope("people:erase"))]``; ``key.id`` is what to
    record with a change (never the secret).
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")  # a typo in a route is caught at import

    def scoped(key: Annotated[ApiKey, Depends(authenticated_key)]) -> ApiKey:
        if not key.allows(scope):
            raise Forbidden(f"the API key {key.id!r} lacks the {scope!r} scope this call needs")
        return key

    return scoped


ReadKey = Annotated[ApiKey, Depends(require_scope("read"))]
AlertsWriteKey = Annotated[ApiKey, Depends(require_scope("alerts:write"))]
SubscriptionsAdminKey = Annotated[ApiKey, Depends(require_scope("subscriptions:admin"))]
PeopleEraseKey = Annotated[ApiKey, Depends(require_scope("people:erase"))]
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "The API key lacks the scope this call needs"}
}

# Paging bounds: an offset past this is refused with 422 rather than overflowing a database integer.
MAX_OFFSET: Final = 1_000_000_000
MAX_LIMIT: Final = 1000
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]
