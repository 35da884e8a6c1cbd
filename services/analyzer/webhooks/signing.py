"""Standard Webhooks signatures for outbound deliveries (https://www.standardwebhooks.com/).

A message is signed as `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the
base64-decoded part of a `whsec_` secret. During a secret rotation every active secret signs, and the
`webhook-signature` header carries one space-separated `v1,` signature per secret; a receiver accepts the message
if any of them matches, so it can switch secrets at its own pace.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as secrets_random
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker of secrets, not a secret
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 5 * 60
# The specification allows keys of 24 to 64 bytes; 32 matches the HMAC-SHA256 block output size.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
DEFAULT_SECRET_BYTES = 32


class SignatureError(ValueError):
    """A webhook message whose headers or signatures do not verify."""


def generate_secret(*, size: int = DEFAULT_SECRET_BYTES) -> str:
    """Return a new random `whsec_` signing secret of `size` bytes."""
    if not MIN_SECRET_BYTES <= size <= MAX_SECRET_BYTES:
        raise ValueError(f"secret size must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, got {size}")
    return SECRET_PREFIX + base64.b64encode(secrets_random.token_bytes(size)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """Return the HMAC key of a `whsec_` secret (the prefix is optional, as in the reference libraries)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Padding is restored because some providers hand out unpadded base64; validate rejects stray characters.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("webhook secret is not valid base64") from exc
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the `v1,<base64>` signature of one message under one secret."""
    if not msg_id:
        raise ValueError("webhook-id must not be empty")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` value: one space-separated `v1,` signature per active secret."""
    if isinstance(secrets, str):
        # A bare string is a Sequence[str] of characters; signing with each character would be a silent bug.
        raise TypeError("secrets must be a sequence of secrets, not a single string")
    unique = list(dict.fromkeys(secrets))
    if not unique:
        raise ValueError("at least one secret is needed to sign a webhook")
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in unique)


def build_headers(
    secrets: Sequence[str],
    msg_id: str,
    timestamp: int,
    body: bytes,
    *,
    content_type: str = "application/json",
) -> dict[str, str]:
    """Return the Standard Webhooks headers of one delivery attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": content_type,
    }


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> None:
    """Raise `SignatureError` unless the headers carry a fresh, matching `v1` signature of `body` under `secret`."""
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    raw_signatures = lowered.get("webhook-signature")
    if not (msg_id and raw_timestamp and raw_signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(raw_timestamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not an integer") from exc
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise SignatureError("webhook-timestamp is outside the tolerance window")
    expected = sign(secret, msg_id, timestamp, body).encode("ascii")
    for candidate in raw_signatures.split():
        version, _, _ = candidate.partition(",")
        # Other versions (such as v1a, asymmetric) are skipped, not failed, as the specification requires.
        if version == SIGNATURE_VERSION and hmac.compare_digest(candidate.encode("ascii", "replace"), expected):
            return
    raise SignatureError("no matching signature")
