"""The dashboard's login session: a signed cookie that holds no key.

A person signs in with one of the analyzer's API keys. The cookie then carries, signed with
HMAC-SHA256 under the session secret: a fingerprint of the key (an HMAC of it under the same
secret, from which the key cannot be recovered), the expiry and the session's CSRF token. Every
request recomputes the fingerprints of the keys configured now, so removing a key (or its
``dashboard`` scope) from ``ANALYZER_API_KEYS`` ends the sessions opened with it. Every comparison
is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from services.analyzer.keys import ApiKey

COOKIE_NAME: Final = "sd_session"
LOGIN_COOKIE_NAME: Final = "sd_login"  # the login form's CSRF token, before any session exists
COOKIE_PATH: Final = "/dashboard"
LOGIN_TOKEN_TTL_S: Final = 900
_VERSION: Final = "v1"
_MAX_COOKIE_CHARS: Final = 1024  # far above a real cookie; anything longer is not ours


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in person: when the session ends, the token its forms must carry, and the key signed in with."""

    expires_at: int  # Unix seconds
    csrf: str
    key_id: str  # recorded with the changes made in this session (never the key itself)
    scopes: frozenset[str]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def tokens_match(given: str | None, expected: str | None) -> bool:
    """True if both tokens are present and equal, compared in constant time."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class SessionCodec:
    """Issues and reads session cookies under one secret."""

    def __init__(self, secret: bytes, ttl_s: int) -> None:
        if len(secret) < 32:
            raise ValueError("the session secret must be at least 32 bytes")
        self._secret = secret
        self.ttl_s = ttl_s

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, f"{_VERSION}.{payload}".encode(), hashlib.sha256).digest())

    def fingerprint(self, key: str) -> str:
        """The key's stand-in in a cookie: an HMAC of it, which does not reveal it."""
        return _b64(hmac.new(self._secret, b"key:" + key.encode(), hashlib.sha256).digest())

    def issue(self, key: ApiKey, *, now: int) -> tuple[str, Session]:
        """A cookie value for someone who just presented ``key`` (already checked), and its session."""
        session = Session(expires_at=now + self.ttl_s, csrf=new_token(), key_id=key.id, scopes=key.scopes)
        body = {"kid": self.fingerprint(key.secret.get_secret_value()), "exp": session.expires_at, "csrf": session.csrf}
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        return f"{_VERSION}.{payload}.{self._sign(payload)}", session

    def read(self, cookie: str | None, keys: Sequence[ApiKey], *, now: int) -> Session | None:
        """The session of a cookie, or None: unsigned, tampered, expired, or its key no longer accepted."""
        if not cookie or len(cookie) > _MAX_COOKIE_CHARS:
            return None
        version, _, rest = cookie.partition(".")
        payload, _, signature = rest.partition(".")
        if version != _VERSION or not payload or not signature:
            return None
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return None
        try:
            body = json.loads(_unb64(payload))
        except (binascii.Error, ValueError):
            return None  # cannot happen for a payload we signed; kept so a bad one never raises
        if not isinstance(body, dict):
            return None
        kid, expires_at, csrf = body.get("kid"), body.get("exp"), body.get("csrf")
        if not isinstance(kid, str) or not isinstance(expires_at, int) or not isinstance(csrf, str):
            return None
        if expires_at <= now:
            return None
        accepted: ApiKey | None = None
        for key in keys:
            # No early exit: the time taken does not tell which key a session belongs to.
            if hmac.compare_digest(kid.encode(), self.fingerprint(key.secret.get_secret_value()).encode()):
                accepted = key
        if accepted is None:
            return None
        return Session(expires_at=expires_at, csrf=csrf, key_id=accepted.id, scopes=accepted.scopes)
