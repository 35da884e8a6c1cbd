"""Freshdesk: an automation rule on customer feedback whose webhook body is our template (docs/vendors/freshdesk.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from services.ingest.vendors.base import (
    Respondent,
    SignatureError,
    UnusableAnswerError,
    VendorResult,
    delivery_key,
    event_id,
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
from shared.events import Scale

AUTHORIZATION_HEADER: Final = "authorization"

# Freshdesk's satisfaction codes, from "extremely happy" to "extremely unhappy", placed in order on a
# 7-point scale so that 100 (neutral) is its midpoint 4 and normalises to 0; the 3- and 5-point surveys
# use a subset of the same codes and so keep their extremes at +1 and -1.
RATING_CODES: Final[Mapping[int, int]] = {103: 7, 102: 6, 101: 5, 100: 4, -101: 3, -102: 2, -103: 1}
RATING_SCALE: Final = Scale(min=1, max=7, higher_is_better=True)


@dataclass(frozen=True, slots=True)
class FreshdeskAdapter:
    """Freshdesk feedback codes 103 ... -103 as a 7-point rating, one answer per ticket."""

    @property
    def source(self) -> str:
        """The vendor's name."""
        return "freshdesk"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        """Check ``Authorization: Bearer <secret>``; Freshdesk signs nothing, so the body is not covered."""
        secret_key(secret)
        scheme, _, token = required_header(headers, AUTHORIZATION_HEADER).partition(" ")
        if scheme.lower() != "bearer":
            raise SignatureError(f"{AUTHORIZATION_HEADER} must use the Bearer scheme")
        if not same(token.strip(), secret):
            raise SignatureError(f"{AUTHORIZATION_HEADER} does not carry this source's secret")

    def parse(self, body: bytes, headers: Mapping[str, str]) -> VendorResult:
        """Map our template's body onto one rating event, or none for an unknown rating code."""
        payload = load_object(body)
        ticket_id = required_text(required_member(payload, "ticket", path="ticket"), "id", path="ticket.id")
        feedback = member(payload, "feedback", path="feedback")
        code = number(feedback.get("rating"))
        score = RATING_CODES.get(int(code)) if code is not None and code.is_integer() else None
        if score is None:
            return VendorResult.nothing(
                f"ticket {ticket_id}: feedback.rating {shown(feedback.get('rating'))} is not one of "
                f"{', '.join(map(str, RATING_CODES))}",
            )
        occurred_at = parse_time(payload.get("sent_at"), path="sent_at")
        company_id = text(member(payload, "company", path="company").get("id"))
        respondent = Respondent(
            stakeholder_ids=(text(member(payload, "contact", path="contact").get("email")),),
            account_ids=(f"freshdesk:company:{company_id}" if company_id else None,),
        )
        # Freshdesk sends no delivery id, so the raw body stands in for it.
        delivery = delivery_key(None, body)
        try:
            event = make_event(
                source=self.source,
                event_id=event_id(self.source, delivery, "feedback"),
                response_id=response_id(self.source, "ticket", ticket_id),
                occurred_at=occurred_at,
                metric="rating",
                score=score,
                scale=RATING_SCALE,
                identity="vendor",
                respondent=respondent,
                comment=text(feedback.get("comment")),
            )
        except UnusableAnswerError as exc:
            return VendorResult.nothing(f"ticket {ticket_id}: {exc.reason}")
        return VendorResult(events=(event,))
