"""Bearer API-key authentication, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from pydantic import SecretStr

from shared.errors import Unauthorized


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def matches_any(candidate: str, keys: Sequence[SecretStr]) -> bool:
    """True if ``candidate`` equals one of ``keys``; every key is compared, in constant time."""
    found = False
    given = candidate.encode()
    for key in keys:
        # No early exit: the time taken does not tell which key, or how much of one, matched.
        found |= hmac.compare_digest(given, key.get_secret_value().encode())
    return found


def require_api_key(authorization: str | None, keys: Sequence[SecretStr]) -> str:
    """Return the caller's key if it is one of ``keys``; raise 401 otherwise (also when none are set)."""
    token = bearer_token(authorization)
    if token is None or not keys or not matches_any(token, keys):
        raise Unauthorized()
    return token
