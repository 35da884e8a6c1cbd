"""What the fuzzer needs to reach past a vendor route's signature check: signing, and vendor-shaped bodies.

A request signed as the vendor signs it gets past the 401 to the payload parser; a body that is the
vendor's documented example with a few parts replaced by arbitrary JSON or dropped reaches deep into
that parser, where a random JSON object would stop at its first missing key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from hypothesis import strategies as st

from services.ingest.settings import VENDOR_SOURCES
from tests.ingest.vendors import payloads as p

SECRET = p.SECRET
WEBHOOK_PREFIX = "/v1/webhooks/"

TEMPLATES: dict[str, dict[str, Any]] = {
    "zendesk": p.create_zendesk_payload(),
    "intercom": p.create_intercom_payload(),
    "typeform": p.create_typeform_payload(),
    "delighted": p.create_delighted_payload(),
    "freshdesk": p.create_freshdesk_payload(),
}
assert set(TEMPLATES) == set(VENDOR_SOURCES)


def signature_headers(source: str, body: bytes, *, secret: str = SECRET) -> dict[str, str]:
    """The headers with which ``source`` would sign ``body`` now (none for an unknown source)."""
    if source == "zendesk":
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = hmac.new(secret.encode(), stamp.encode() + body, hashlib.sha256).digest()
        return {
            "x-zendesk-webhook-signature": base64.b64encode(digest).decode(),
            "x-zendesk-webhook-signature-timestamp": stamp,
        }
    if source == "intercom":
        return {"x-hub-signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()}
    if source == "typeform":
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        return {"typeform-signature": "sha256=" + base64.b64encode(digest).decode()}
    if source == "delighted":
        digest_hex = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {"x-delighted-webhook-signature": f"sha256={digest_hex}"}
    if source == "freshdesk":
        return {"authorization": f"Bearer {secret}"}
    return {}


class VendorSignature(requests.auth.AuthBase):
    """Signs a prepared request to ``/v1/webhooks/<source>`` over the exact bytes it will send."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        path = urlsplit(request.url or "").path
        if path.startswith(WEBHOOK_PREFIX):
            body = request.body
            raw = body.encode() if isinstance(body, str) else body if isinstance(body, bytes) else b""
            request.headers.update(signature_headers(path.removeprefix(WEBHOOK_PREFIX), raw))
        return request


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, small."""
    numbers = st.integers() | st.floats(allow_nan=False, allow_infinity=False)  # what JSON can carry
    scalars = st.none() | st.booleans() | numbers | st.text(max_size=20)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=6,
    )


Path = tuple[str | int, ...]


def _paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every place inside a JSON value (the value itself included), parents before children."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _edit(value: Any, path: Path, replacement: Any, *, drop: bool) -> Any:
    """A copy of ``value`` with the part at ``path`` replaced (or, inside an object, dropped)."""
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and head in value:
        if drop and not rest:
            return {k: v for k, v in value.items() if k != head}
        return {**value, head: _edit(value[head], rest, replacement, drop=drop)}
    if isinstance(value, list) and isinstance(head, int) and head < len(value):
        copy = list(value)
        copy[head] = _edit(value[head], rest, replacement, drop=drop)
        return copy
    return value  # the path went away with an earlier edit


def mutated(template: Any, *, max_edits: int = 3) -> st.SearchStrategy[Any]:
    """``template`` with up to ``max_edits`` of its parts replaced by arbitrary JSON or dropped.

    Zero edits (the vendor's own example) is the simplest case, so it is what a failure shrinks
    towards: the report shows the smallest change that breaks the service.
    """
    edit = st.tuples(st.sampled_from(_paths(template)), json_values(), st.booleans())

    def apply(edits: list[tuple[Path, Any, bool]]) -> Any:
        value = template
        for path, replacement, drop in edits:
            value = _edit(value, path, replacement, drop=drop)
        return value

    return st.lists(edit, max_size=max_edits).map(apply)


def vendor_deliveries() -> st.SearchStrategy[tuple[str, Any]]:
    """A vendor and a body shaped like its documented delivery, now and then broken somewhere."""
    return st.sampled_from(sorted(TEMPLATES)).flatmap(
        lambda source: st.tuples(st.just(source), mutated(TEMPLATES[source]))
    )
