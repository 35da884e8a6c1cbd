"""Zendesk: a trigger or automation webhook whose body is our template (docs/vendors/zendesk.md)."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from services.ingest.vendors.base import (
    PayloadError,
    Respondent,
    SignatureError,
    UnusableAnswerError,
    VendorResult,
    delivery_key,
    event_id,
    hmac_digest,
    load_object,
    make_event,
    member,
    parse_time,
    required_header,
    required_member,
    required_text,
    response_id,
    same,
    secret_key,
    shown,
    text,
)

SIGNATURE_HEADER: Final = "x-zendesk-webhook-signature"
TIMESTAMP_HEADER: Final = "x-zendesk-webhook-signature-timestamp"
INVOCATION_HEADER: Final = "x-zendesk-webhook-invocation-id"
MAX_SKEW: Final = timedelta(minutes=5)

# On the default CSAT scale 1-5 these normalise to exactly +1 and -1.
_SCORES: Final = {"good": 5.0, "bad": 1.0}
_FIRST_WORD: Final = re.compile(r"[a-z]+")


@dataclass(frozen=True, slots=True)
class ZendeskAdapter:
    """Zendesk CSAT: ``ticket.satisfaction.rating`` good/bad as CSAT 5/1, one answer per ticket."""

    max_skew: timedelta = MAX_SKEW

    @property
    def source(self) -> str:
        """The vendor's name."""
        return "zendesk"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        """Check base64(HMAC-SHA256(secret, timestamp + body)) and that the timestamp is within ``max_skew``."""
        key = secret_key(secret)
        signature = required_header(headers, SIGNATURE_HEADER)
        timestamp = required_header(headers, TIMESTAMP_HEADER)
        expected = base64.b64encode(hmac_digest(key, timestamp.encode() + body, "sha256")).decode()
        if not same(signature, expected):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")
        try:
            signed_at = parse_time(timestamp, path=TIMESTAMP_HEADER)
        except PayloadError as exc:
            raise SignatureError(exc.reason) from exc
        now = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        if abs(now - signed_at) > self.max_skew:
            raise SignatureError(f"{TIMESTAMP_HEADER} is more than {self.max_skew} away from the server's clock")

    def parse(self, body: bytes, headers: Mapping[str, str]) -> VendorResult:
        """Map our template's body onto one CSAT event, or none when the ticket carries no good/bad rating."""
        payload = load_object(body)
        ticket = required_member(payload, "ticket", path="ticket")
        ticket_id = required_text(ticket, "id", path="ticket.id")
        satisfaction = member(ticket, "satisfaction", path="ticket.satisfaction")
        rating = text(satisfaction.get("rating"))
        score = _score(rating)
        if score is None:
            return VendorResult.nothing(
                f"ticket {ticket_id}: satisfaction rating {shown(rating)} is neither good nor bad"
            )
        occurred_at = parse_time(ticket.get("updated_at"), path="ticket.updated_at")
        requester = member(payload, "requester", path="requester")
        organization = member(payload, "organization", path="organization")
        user_id = text(requester.get("id"))
        org_id = text(organization.get("id"))
        respondent = Respondent(
            stakeholder_id=text(requester.get("external_id")),
            account_id=text(organization.get("external_id")),
            stakeholder_ids=(text(requester.get("email")), f"zendesk:user:{user_id}" if user_id else None),
            account_ids=(f"zendesk:org:{org_id}" if org_id else None,),
        )
        delivery = delivery_key(headers.get(INVOCATION_HEADER, "").strip(), body)
        try:
            event = make_event(
                source=self.source,
                event_id=event_id(self.source, delivery, "satisfaction"),
                response_id=response_id(self.source, "ticket", ticket_id),
                occurred_at=occurred_at,
                metric="csat",
                score=score,
                identity="vendor",
                respondent=respondent,
                comment=text(satisfaction.get("comment")),
            )
        except UnusableAnswerError as exc:
            return VendorResult.nothing(f"ticket {ticket_id}: {exc.reason}")
        return VendorResult(events=(event,))


def _score(rating: str | None) -> float | None:
    # Zendesk renders the rating as text ("Good", "Bad", "Offered", "Unoffered"); the API spells the
    # same states "good_with_comment" and so on, so the first word decides.
    match = _FIRST_WORD.match((rating or "").lower())
    return _SCORES.get(match.group()) if match else None
