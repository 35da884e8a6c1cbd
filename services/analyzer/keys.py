"""The analyzer's API keys: each has an id, a secret and the scopes it grants (docs/security.md).

``ANALYZER_API_KEYS`` is a comma-separated list of entries. ``id:secret:scope1+scope2`` is a key
with an id (recorded with every change it makes, never the secret) and only those scopes; its id and
secret hold no colon. A plain ``secret`` (at most one colon) is a deprecated key with every scope,
named ``key-1``, ``key-2``, ... by its position in the list. Every lookup compares the candidate
with every configured secret in constant time.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from typing import Final

from pydantic import BaseModel, ConfigDict, SecretStr, model_serializer

READ: Final = "read"
ALERTS_WRITE: Final = "alerts:write"
SUBSCRIPTIONS_ADMIN: Final = "subscriptions:admin"
DASHBOARD: Final = "dashboard"
PEOPLE_ERASE: Final = "people:erase"
SCOPES: Final = (READ, ALERTS_WRITE, SUBSCRIPTIONS_ADMIN, DASHBOARD, PEOPLE_ERASE)
"""Every scope a key can have (docs/api.md says which route needs which)."""

LEGACY_ID_PREFIX: Final = "key-"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class ApiKey(BaseModel):
    """One configured key; it dumps (``feedback config``) with its secret masked."""

    model_config = ConfigDict(frozen=True)

    id: str
    secret: SecretStr
    scopes: frozenset[str]
    legacy: bool = False  # a plain secret: every scope (deprecated)

    def allows(self, scope: str) -> bool:
        """Whether the key grants ``scope``."""
        return scope in self.scopes

    @model_serializer
    def _masked(self) -> str:
        return f"{self.id}:**********:{'+'.join(s for s in SCOPES if s in self.scopes)}"


def parse_entry(entry: str, position: int) -> ApiKey:
    """One entry of ``ANALYZER_API_KEYS``; ``position`` (from 1) names a plain secret ``key-<position>``.

    Raises ValueError, never with the secret in its message.
    """
    text = entry.strip()
    if text.count(":") < 2:
        # A plain secret (one colon is part of it, as before scopes existed).
        if not text:
            raise ValueError(f"entry {position} is empty")
        return ApiKey(id=f"{LEGACY_ID_PREFIX}{position}", secret=SecretStr(text), scopes=frozenset(SCOPES), legacy=True)
    # Scope names hold colons (alerts:write): the id and the secret end at the first two.
    key_id, secret, scope_text = (part.strip() for part in text.split(":", 2))
    if not _ID.fullmatch(key_id):
        raise ValueError(
            f"entry {position}: the key id must be 1 to 64 letters, digits, '_', '.' or '-' (starting with a letter "
            "or digit)"
        )
    if not secret:
        raise ValueError(f"entry {position} (key {key_id!r}) has an empty secret")
    scopes = [s.strip() for s in scope_text.split("+") if s.strip()]
    if not scopes:
        raise ValueError(f"entry {position} (key {key_id!r}) names no scope; scopes are {', '.join(SCOPES)}")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(
            f"entry {position} (key {key_id!r}) names unknown scope(s) {', '.join(unknown)}; "
            f"scopes are {', '.join(SCOPES)}"
        )
    return ApiKey(id=key_id, secret=SecretStr(secret), scopes=frozenset(scopes))


def parse_keys(value: object) -> object:
    """``ANALYZER_API_KEYS`` (a string or a list of entries) as keys; anything else is left to validation."""
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list | tuple):
        return value
    keys: list[object] = []
    for position, entry in enumerate(value, start=1):
        if isinstance(entry, SecretStr):
            entry = entry.get_secret_value()
        keys.append(parse_entry(entry, position) if isinstance(entry, str) else entry)
    ids = [k.id for k in keys if isinstance(k, ApiKey)]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ValueError(f"key id(s) {', '.join(duplicated)} appear more than once")
    return keys


def find_key(candidate: str, keys: Sequence[ApiKey]) -> ApiKey | None:
    """The key whose secret is ``candidate``, else None; every secret is compared, in constant time."""
    found: ApiKey | None = None
    given = candidate.encode()
    for key in keys:
        # No early exit: the time taken does not tell which key, or how much of one, matched.
        if hmac.compare_digest(given, key.secret.get_secret_value().encode()):
            found = key
    return found


def entry_secret(entry: str) -> str:
    """The secret of one ``ANALYZER_API_KEYS`` entry (what a client sends), for the CLI's fallback key."""
    text = entry.strip()
    return text.split(":", 2)[1].strip() if text.count(":") >= 2 else text
