"""Intercom: the ``conversation.rating.added`` notification of a Developer Hub webhook subscription."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from services.ingest.vendors.base import (
    JsonObject,
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
    number,
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

SIGNATURE_HEADER: Final = "x-hub-signature"
RATING_TOPIC: Final = "conversation.rating.added"


@dataclass(frozen=True, slots=True)
class IntercomAdapter:
    """Intercom conversation ratings 1-5 as CSAT, one answer per conversation."""

    @property
    def source(self) -> str:
        """The vendor's name."""
        return "intercom"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        """Check ``sha1=`` + hex(HMAC-SHA1(client secret, body)); Intercom signs no timestamp."""
        key = secret_key(secret)
        signature = required_header(headers, SIGNATURE_HEADER)
        expected = "sha1=" + hmac_digest(key, body, "sha1").hex()
        if not same(signature.lower(), expected):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def parse(self, body: bytes, headers: Mapping[str, str]) -> VendorResult:
        """Map a rating notification onto one CSAT event; other topics (``ping`` too) carry none."""
        payload = load_object(body)
        topic = text(payload.get("topic"))
        if topic != RATING_TOPIC:
            return VendorResult.nothing(f"topic {shown(topic)} carries no conversation rating")
        item = required_member(required_member(payload, "data", path="data"), "item", path="data.item")
        conversation_id = required_text(item, "id", path="data.item.id")
        rating = member(item, "conversation_rating", path="data.item.conversation_rating")
        score = number(rating.get("rating"))
        if score is None:
            return VendorResult.nothing(f"conversation {conversation_id}: no numeric conversation_rating.rating")
        # updated_at is the rating's own time (API 2.x); older versions send only created_at.
        when = next((v for v in (rating.get("updated_at"), rating.get("created_at")) if v is not None), None)
        occurred_at = parse_time(when, path="data.item.conversation_rating.updated_at")
        delivery = delivery_key(text(payload.get("id")), body)
        try:
            event = make_event(
                source=self.source,
                event_id=event_id(self.source, delivery, "conversation_rating"),
                response_id=response_id(self.source, "conversation", conversation_id),
                occurred_at=occurred_at,
                metric="csat",
                score=score,
                identity="vendor",
                respondent=_respondent(item, rating),
                comment=text(rating.get("remark")),
            )
        except UnusableAnswerError as exc:
            return VendorResult.nothing(f"conversation {conversation_id}: {exc.reason}")
        return VendorResult(events=(event,))


def _respondent(item: JsonObject, rating: JsonObject) -> Respondent:
    contact = member(rating, "contact", path="data.item.conversation_rating.contact")
    author = member(member(item, "source", path="data.item.source"), "author", path="data.item.source.author")
    company = member(item, "company", path="data.item.company")
    contact_id = text(contact.get("id"))
    intercom_company = text(company.get("id"))
    # The conversation's author is not always the person who rated it; only then is its email theirs.
    email = text(author.get("email")) if contact_id and text(author.get("id")) == contact_id else None
    return Respondent(
        stakeholder_id=text(contact.get("external_id")),
        account_id=text(company.get("company_id")),
        stakeholder_ids=(f"intercom:contact:{contact_id}" if contact_id else None, email),
        account_ids=(f"intercom:company:{intercom_company}" if intercom_company else None,),
    )
