"""The reason a delivery attempt failed, as subscribers' API callers see it: generic, never an address.

``GET /v1/subscriptions/{id}/deliveries`` and a subscription's ``disabled_reason`` show these words only;
the exception itself (host names, resolved addresses, internal errors) goes to the analyzer's log.
"""

from __future__ import annotations

import socket
import ssl
from typing import Final

import httpx

from services.analyzer.webhooks.ssrf import ForbiddenTarget

ADDRESS_NOT_ALLOWED: Final = "address not allowed"
TIMEOUT: Final = "timeout"
CONNECTION_REFUSED: Final = "connection refused"
NAME_NOT_RESOLVED: Final = "name not resolved"
TLS_ERROR: Final = "TLS error"
CONNECTION_FAILED: Final = "connection failed"
CONNECTION_CLOSED: Final = "connection closed"
PROTOCOL_ERROR: Final = "protocol error"
REQUEST_FAILED: Final = "request failed"
REDIRECT: Final = "redirect not followed"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes and contexts (bounded: a chain is never this long)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 16 and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def failure_reason(exc: BaseException) -> str:
    """A generic reason for an attempt that raised ``exc``."""
    chain = _chain(exc)
    if any(isinstance(e, ForbiddenTarget) for e in chain):
        return ADDRESS_NOT_ALLOWED
    if any(isinstance(e, TimeoutError | httpx.TimeoutException) for e in chain):
        return TIMEOUT
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return CONNECTION_REFUSED
    if any(isinstance(e, socket.gaierror) for e in chain) or "could not resolve" in str(exc):
        return NAME_NOT_RESOLVED
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return TLS_ERROR
    if isinstance(exc, httpx.ConnectError):
        # httpcore words a refused connection in the message only, after the socket error is gone.
        return CONNECTION_REFUSED if "refused" in str(exc).lower() else CONNECTION_FAILED
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError):
        return CONNECTION_CLOSED if "closed" in str(exc).lower() or "disconnect" in str(exc).lower() else PROTOCOL_ERROR
    if isinstance(exc, httpx.ProtocolError):
        return PROTOCOL_ERROR
    return REQUEST_FAILED


def status_reason(status: int) -> str | None:
    """The reason for an answer that is not a 2xx, None for a 2xx."""
    if 200 <= status < 300:
        return None
    return REDIRECT if 300 <= status < 400 else f"HTTP {status}"
