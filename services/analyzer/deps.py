"""FastAPI dependencies of the analyzer API, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Final

from fastapi import Depends, Header, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.settings import AnalyzerSettings
from shared.auth import bearer_token, require_api_key
from shared.authguard import AuthGuard
from shared.errors import Unauthorized


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


def authenticated_client(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """The caller's key, checked in constant time against ``ANALYZER_API_KEYS``.

    401 for a wrong or missing key; 429 while the address or the presented key has spent its
    failures (``AuthGuard``, shared with the dashboard's sign-in).
    """
    guard: AuthGuard = request.app.state.auth_guard
    address, presented = client_address(request), bearer_token(authorization)
    guard.refuse_if_exhausted(address, presented)
    try:
        return require_api_key(authorization, settings.analyzer_api_keys)
    except Unauthorized:
        guard.failed(address, presented)
        raise


ClientDep = Annotated[str, Depends(authenticated_client)]

# Paging bounds: an offset past this is refused with 422 rather than overflowing a database integer.
MAX_OFFSET: Final = 1_000_000_000
MAX_LIMIT: Final = 1000
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")]
