"""What every vendor adapter shares: errors, the result type, signature checks, payload reading, event ids.

Pure functions over bytes and plain data: no I/O, no framework. The route turns ``SignatureError`` into
401 and ``PayloadError`` into 422; a ``VendorResult`` without events is acknowledged with 2xx.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from pydantic import ValidationError

from shared.event_time import calendar_error
from shared.events import REQUEST_ID_PATTERN, Identities, IdentityBasis, Metric, Scale, SurveyResponse
from shared.json_body import JsonBodyError, load_json
from shared.limits import (
    MAX_ACCOUNT_ID_CHARS,
    MAX_ALIAS_CHARS,
    MAX_COMMENT_CHARS,
    MAX_IDENTITIES,
    MAX_LABEL_CHARS,
    MAX_PERSON_ID_CHARS,
    MAX_RESPONSE_ID_CHARS,
)

JsonObject = dict[str, Any]

# The event contract's field lengths (shared/limits.py), under the names the adapters use: an
# over-long vendor value is dropped or cut before it would fail validation of the whole event.
MAX_ACCOUNT_ID: Final = MAX_ACCOUNT_ID_CHARS
MAX_PERSON_ID: Final = MAX_PERSON_ID_CHARS
MAX_ALIAS: Final = MAX_ALIAS_CHARS
MAX_LABEL: Final = MAX_LABEL_CHARS
MAX_RESPONSE_ID: Final = MAX_RESPONSE_ID_CHARS

# Namespace of the event ids derived from vendor deliveries (see ``event_id``).
_EVENT_ID_NAMESPACE: Final = uuid.UUID("2b0c8f7e-5d8a-4c4f-9a0e-7e3d1b6c9f21")


class VendorError(Exception):
    """A webhook delivery an adapter refuses; ``reason`` says why in words fit for the response."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureError(VendorError):
    """A missing or wrong signature, or a stale signed timestamp (the API answers 401)."""


class PayloadError(VendorError):
    """A body that is not JSON or lacks the structure the vendor documents (the API answers 422)."""


class UnusableAnswerError(Exception):
    """One answer in a delivery that cannot become an event (skipped, and the delivery acknowledged)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class VendorResult:
    """The events one delivery maps to, and why anything in it was not mapped."""

    events: tuple[SurveyResponse, ...] = ()
    reason: str | None = None
    # Why the events' respondent is "unverified" (a survey link without a valid token), if it is.
    unverified_reason: str | None = None

    @classmethod
    def nothing(cls, reason: str) -> VendorResult:
        """A delivery with no usable score."""
        return cls(events=(), reason=reason)


class VendorAdapter(Protocol):
    """Verifies and maps one vendor's webhook deliveries."""

    @property
    def source(self) -> str:
        """The vendor's name: the path segment of ``POST /v1/webhooks/{source}``."""
        ...

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        """Raise ``SignatureError`` unless the delivery is signed with ``secret`` (and fresh, where signed)."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str]) -> VendorResult:
        """Map a verified delivery onto ``survey_response`` events; raise ``PayloadError`` if malformed."""
        ...


# --- signatures -------------------------------------------------------------------------------------


def secret_key(secret: str) -> bytes:
    """The signing key; an empty secret would let anyone sign, so it verifies nothing."""
    if not secret:
        raise SignatureError("no webhook secret is configured for this source")
    return secret.encode()


def required_header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, stripped; ``SignatureError`` when absent or empty."""
    value = headers.get(name, "").strip()
    if not value:
        raise SignatureError(f"missing {name} header")
    return value


def same(received: str, expected: str) -> bool:
    """Constant-time equality of two header values (compared as bytes, so any character is safe)."""
    return hmac.compare_digest(received.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def hmac_digest(key: bytes, message: bytes, algorithm: str) -> bytes:
    """HMAC of ``message`` under ``key`` with ``algorithm`` (``sha1`` or ``sha256``)."""
    return hmac.new(key, message, algorithm).digest()


# --- payload reading ---------------------------------------------------------------------------------


def load_object(body: bytes) -> JsonObject:
    """The body as a JSON object; ``PayloadError`` for anything else."""
    try:
        value = load_json(body)
    except JsonBodyError as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise PayloadError(f"body must be a JSON object, not {_json_type(value)}")
    return value


def member(parent: JsonObject, key: str, *, path: str) -> JsonObject:
    """An optional nested object: ``{}`` when absent or null, ``PayloadError`` when of another type."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{path} must be an object, not {_json_type(value)}")
    return value


def required_member(parent: JsonObject, key: str, *, path: str) -> JsonObject:
    """A nested object the vendor always sends; ``PayloadError`` when absent."""
    if parent.get(key) is None:
        raise PayloadError(f"{path} is missing")
    return member(parent, key, path=path)


def items(parent: JsonObject, key: str, *, path: str) -> list[Any]:
    """An optional array: ``[]`` when absent or null, ``PayloadError`` when of another type."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{path} must be an array, not {_json_type(value)}")
    return value


def text(value: object) -> str | None:
    """A scalar as stripped text; ``None`` for null, empty text (an unfilled placeholder) and non-scalars."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else None
    if isinstance(value, str):
        # JSON may carry lone surrogates ("\ud800"), which no UTF-8 encoder (nor pydantic) accepts.
        return value.encode("utf-8", "replace").decode().strip() or None
    return None


def required_text(parent: JsonObject, key: str, *, path: str) -> str:
    """An id or other scalar the vendor always sends; ``PayloadError`` when absent or empty."""
    value = text(parent.get(key))
    if value is None:
        raise PayloadError(f"{path} is missing or empty")
    return value


def number(value: object) -> float | None:
    """A finite number from a JSON number or numeric text; ``None`` otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if not isinstance(value, int | float | str):
        return None
    try:
        result = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def parse_time(value: object, *, path: str) -> datetime:
    """An aware time from ISO 8601 text or Unix seconds; naive times are taken as UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_unix(value, path=path)
    raw = text(value)
    if raw is None:
        raise PayloadError(f"{path} is missing or empty")
    if raw.isascii() and raw.isdigit():
        return _from_unix(float(raw), path=path)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise PayloadError(f"{path} is not an ISO 8601 time or Unix seconds: {shown(raw)}") from exc
    return _in_calendar(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC), path=path)


def _from_unix(value: float, *, path: str) -> datetime:
    try:
        return _in_calendar(datetime.fromtimestamp(value, tz=UTC), path=path)
    except (OverflowError, OSError, ValueError) as exc:
        raise PayloadError(f"{path} is not a valid Unix time: {shown(value)}") from exc


def _in_calendar(value: datetime, *, path: str) -> datetime:
    # The policy window (EVENT_TIME_*) is checked on the events by the route; this refuses the
    # times that cannot even be converted to UTC, naming the vendor's own field.
    if (reason := calendar_error(value)) is not None:
        raise PayloadError(f"{path} {reason}: {shown(value.isoformat())}")
    return value


def shown(value: object) -> str:
    """A vendor value quoted for a reason message, cut short so a hostile body cannot flood the logs."""
    try:
        quoted = repr(value)
    except ValueError:  # an integer beyond Python's digit limit for str()
        return "<a number too long to show>"
    return quoted if len(quoted) <= 80 else quoted[:77] + "..."


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


# --- ids ---------------------------------------------------------------------------------------------


def delivery_key(delivery_id: str | None, body: bytes) -> str:
    """What identifies one delivery: the vendor's delivery id, else a hash of the raw body."""
    if delivery_id:
        return f"id:{delivery_id}"
    # A retry resends the same bytes, so the hash is as stable as a delivery id would be.
    return f"sha256:{hashlib.sha256(body).hexdigest()}"


def event_id(source: str, delivery: str, part: str) -> str:
    """The event id of one answer in one delivery: the same for every retry of that delivery."""
    name = "\x1f".join((source, delivery, part))
    return f"{source}:{uuid.uuid5(_EVENT_ID_NAMESPACE, name)}"


def response_id(*parts: str) -> str:
    """The answer's own identity, ``:``-joined; hashed at the end only when it would be too long."""
    joined = ":".join(parts)
    if len(joined) <= MAX_RESPONSE_ID:
        return joined
    digest = hashlib.sha256(joined.encode()).hexdigest()
    return f"{joined[: MAX_RESPONSE_ID - len(digest) - 1]}~{digest}"


# --- events ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Respondent:
    """Who answered for which organisation: ids the customer assigned, and every id the payload names."""

    stakeholder_id: str | None = None
    account_id: str | None = None
    stakeholder_ids: Sequence[str | None] = ()
    account_ids: Sequence[str | None] = ()


def make_event(
    *,
    source: str,
    event_id: str,
    response_id: str,
    occurred_at: datetime,
    metric: Metric,
    score: float,
    respondent: Respondent,
    identity: IdentityBasis,
    scale: Scale | None = None,
    comment: str | None = None,
    dimension: str | None = None,
    request_id: str | None = None,
) -> SurveyResponse:
    """A validated ``survey_response``; ``UnusableAnswerError`` when it names no account or person, or is off-scale."""
    require_identified(respondent)
    stakeholders = _aliases((respondent.stakeholder_id, *respondent.stakeholder_ids))
    accounts = _aliases((respondent.account_id, *respondent.account_ids))
    label = (dimension or "").strip()[:MAX_LABEL].strip()
    try:
        return SurveyResponse(
            type="survey_response",
            event_id=event_id,
            response_id=response_id,
            occurred_at=occurred_at,
            source=source,
            metric=metric,
            score=score,
            scale=scale,
            account_id=_fitting(respondent.account_id, MAX_ACCOUNT_ID),
            stakeholder_id=_fitting(respondent.stakeholder_id, MAX_PERSON_ID),
            identities=Identities(stakeholder=stakeholders, account=accounts) if stakeholders or accounts else None,
            comment=(comment or "").strip()[:MAX_COMMENT_CHARS] or None,
            dimension=label or None,
            identity=identity,
            request_id=survey_request_id(request_id),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        raise UnusableAnswerError(f"{where}: {first['msg']}") from exc


def survey_request_id(value: str | None) -> str | None:
    """The survey request id a vendor carried round (a hidden field, a property), or None when it is not one.

    A value that is not a request id the analyzer gave (``req_`` and 32 hex digits) is dropped rather than
    refusing the answer: the answer counts either way, only no request is fulfilled.
    """
    candidate = (value or "").strip().lower()
    return candidate if re.fullmatch(REQUEST_ID_PATTERN, candidate) else None


def require_identified(respondent: Respondent) -> None:
    """``UnusableAnswerError`` unless the respondent names a person in a form events accept.

    The account may be missing: the analyzer then takes it from the resolved person, and keeps the
    answer unattributed until the directory names them (docs/vendors/README.md, "Answers that name no
    account"). Nothing is dropped.
    """
    if not _aliases((respondent.stakeholder_id, *respondent.stakeholder_ids)):
        raise UnusableAnswerError("the payload names no respondent (person id or email)")


def _fitting(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value if 0 < len(value) <= limit else None


def _aliases(values: Iterable[str | None]) -> list[str]:
    # An id too long to store is dropped rather than cut: a cut id would name someone else.
    seen: dict[str, None] = {}
    for value in values:
        alias = _fitting(value, MAX_ALIAS)
        if alias is not None:
            seen.setdefault(alias)
    return list(seen)[:MAX_IDENTITIES]
