"""Signed survey-link tokens: who may answer as whom (docs/security.md, "Who may answer as whom").

A survey link names its respondent in parameters anyone holding the link can edit (a Typeform hidden
field, a Delighted property). The token travels beside those ids and proves that the supplier made the
link for exactly that account and person, until a time:

    v1.<expiry, Unix seconds>.<base64url(fingerprint[4] + HMAC-SHA256(SURVEY_LINK_SECRET, ...)[32])>

The MAC covers the version, the account id, the stakeholder id and the expiry. The fingerprint is an
unkeyed SHA-256 of the two ids (which the link shows anyway): it only lets a refusal say "made for other
ids" rather than "wrong signature". Pure functions, no I/O; comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Final

VERSION: Final = "v1"
MAX_TTL: Final = timedelta(days=366)  # a link meant for a survey campaign, not a permanent credential
MIN_SECRET_CHARS: Final = 32
MAX_TOKEN_CHARS: Final = 128  # far above a real token: anything longer is refused before any work
_FINGERPRINT_BYTES: Final = 4
_MAC_BYTES: Final = 32
_SHAPE: Final = re.compile(r"^v1\.(\d{1,12})\.([A-Za-z0-9_-]{48})$")


class LinkTokenError(Exception):
    """A token that does not vouch for the ids beside it; ``reason`` says why, fit for a response or a log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def mint(secret: str, account_id: str, stakeholder_id: str, expires_at: datetime) -> str:
    """The token for a link that names ``account_id`` and ``stakeholder_id``, valid until ``expires_at``."""
    _require_ids(account_id, stakeholder_id)
    expiry = int(expires_at.timestamp())
    if expiry < 0:
        raise ValueError("the expiry must lie after 1970")
    raw = _fingerprint(account_id, stakeholder_id) + _mac(_key(secret), account_id, stakeholder_id, expiry)
    return f"{VERSION}.{expiry}.{base64.urlsafe_b64encode(raw).decode().rstrip('=')}"


def check(secret: str, token: str, account_id: str | None, stakeholder_id: str | None, now: datetime) -> None:
    """Raise ``LinkTokenError`` unless ``token`` was made with ``secret`` for these ids and has not expired."""
    key = _key(secret)
    if len(token) > MAX_TOKEN_CHARS or not (shape := _SHAPE.match(token)):
        raise LinkTokenError(f"the link token is not a {VERSION} token ({VERSION}.<expiry>.<signature>)")
    if not account_id or not stakeholder_id:
        raise LinkTokenError("the link carries a token but not both the account id and the stakeholder id it signs")
    expiry = int(shape.group(1))
    raw = base64.urlsafe_b64decode(shape.group(2))  # 48 base64url characters: always 36 bytes
    fingerprint, mac = raw[:_FINGERPRINT_BYTES], raw[_FINGERPRINT_BYTES:]
    if not hmac.compare_digest(fingerprint, _fingerprint(account_id, stakeholder_id)):
        raise LinkTokenError("the link token was made for another account or person than the link names")
    if not hmac.compare_digest(mac, _mac(key, account_id, stakeholder_id, expiry)):
        raise LinkTokenError("the link token's signature is wrong (another secret, or an edited expiry)")
    expires_at = datetime.fromtimestamp(expiry, tz=UTC)
    if now >= expires_at:
        raise LinkTokenError(f"the link token expired at {expires_at.isoformat()}")


def digest(token: str) -> str:
    """A short stable name of a token (for response ids): the same link answers as one answer."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]


def parse_ttl(text: str) -> timedelta:
    """A lifetime such as ``30d``, ``12h``, ``90m`` or ``2w``; ``ValueError`` with the reason otherwise."""
    match = re.fullmatch(r"\s*(\d{1,6})\s*([mhdw])\s*", text)
    if not match:
        raise ValueError(f"ttl {text!r} is not a number followed by m, h, d or w (e.g. 30d)")
    amount, unit = int(match.group(1)), match.group(2)
    ttl = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}.get(
        unit, timedelta(weeks=amount)
    )
    if not timedelta(0) < ttl <= MAX_TTL:
        raise ValueError(f"ttl {text!r} must be above zero and at most {MAX_TTL.days} days")
    return ttl


def _key(secret: str) -> bytes:
    # A short or empty secret would let anyone mint tokens; the settings refuse one already.
    if len(secret) < MIN_SECRET_CHARS:
        raise ValueError(f"the survey link secret must be at least {MIN_SECRET_CHARS} characters")
    return secret.encode()


def _require_ids(account_id: str, stakeholder_id: str) -> None:
    if not account_id.strip() or not stakeholder_id.strip():
        raise ValueError("a survey link names both an account id and a stakeholder id")


def _message(account_id: str, stakeholder_id: str, expiry: int | None) -> bytes:
    # JSON of a list: unambiguous whatever characters the ids hold.
    parts: list[object] = [VERSION, account_id, stakeholder_id]
    if expiry is not None:
        parts.append(expiry)
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _fingerprint(account_id: str, stakeholder_id: str) -> bytes:
    return hashlib.sha256(_message(account_id, stakeholder_id, None)).digest()[:_FINGERPRINT_BYTES]


def _mac(key: bytes, account_id: str, stakeholder_id: str, expiry: int) -> bytes:
    return hmac.new(key, _message(account_id, stakeholder_id, expiry), hashlib.sha256).digest()[:_MAC_BYTES]
