"""Delighted: ``survey_response.created`` and ``.updated`` webhooks; ``.updated`` replaces ``.created``."""

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
from shared.events import Metric, Scale

SIGNATURE_HEADER: Final = "x-delighted-webhook-signature"
DEFAULT_ACCOUNT_PROPERTY: Final = "Account ID"
DEFAULT_CES_POINTS: Final = 7
RESPONSE_EVENTS: Final = frozenset({"survey_response.created", "survey_response.updated"})

# Delighted's 5-star and smileys surveys are 1-5 satisfaction scales without a CSAT label of their own.
_FIVE_POINT_RATING: Final = Scale(min=1, max=5, higher_is_better=True)


@dataclass(frozen=True, slots=True)
class DelightedAdapter:
    """Delighted responses: the metric from ``survey_type``, the account from a person property."""

    account_property: str = DEFAULT_ACCOUNT_PROPERTY
    ces_points: int = DEFAULT_CES_POINTS

    @property
    def source(self) -> str:
        """The vendor's name."""
        return "delighted"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        """Check ``sha256=`` + hex(HMAC-SHA256(secret, body)); Delighted signs no timestamp."""
        key = secret_key(secret)
        signature = required_header(headers, SIGNATURE_HEADER).lower()
        # Delighted's docs name the header but not its layout; a bare hex digest is accepted as well.
        if not signature.startswith("sha256="):
            signature = "sha256=" + signature
        expected = "sha256=" + hmac_digest(key, body, "sha256").hex()
        if not same(signature, expected):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def parse(self, body: bytes, headers: Mapping[str, str]) -> VendorResult:
        """Map a survey response event onto one event; unsubscribes and unknown survey types carry none."""
        payload = load_object(body)
        event_type = text(payload.get("event_type"))
        if event_type not in RESPONSE_EVENTS:
            return VendorResult.nothing(f"event_type {shown(event_type)} carries no survey response")
        data = required_member(payload, "event_data", path="event_data")
        answer_id = required_text(data, "id", path="event_data.id")
        score = number(data.get("score"))
        if score is None:
            return VendorResult.nothing(f"survey response {answer_id}: no numeric score")
        survey_type = (text(data.get("survey_type")) or "nps").lower()
        mapped = self._metric(survey_type)
        if mapped is None:
            return VendorResult.nothing(f"survey response {answer_id}: survey_type {shown(survey_type)} is not mapped")
        metric, scale = mapped
        # updated_at moves with every change of score or comment, so it orders the versions of the answer.
        when = data.get("updated_at") if data.get("updated_at") is not None else data.get("created_at")
        occurred_at = parse_time(when, path="event_data.updated_at")
        delivery = delivery_key(text(payload.get("event_id")), body)
        try:
            event = make_event(
                source=self.source,
                event_id=event_id(self.source, delivery, "survey_response"),
                response_id=response_id(self.source, "response", answer_id),
                occurred_at=occurred_at,
                metric=metric,
                score=score,
                scale=scale,
                respondent=self._respondent(data),
                comment=text(data.get("comment")),
            )
        except UnusableAnswerError as exc:
            return VendorResult.nothing(f"survey response {answer_id}: {exc.reason}")
        return VendorResult(events=(event,))

    def _metric(self, survey_type: str) -> tuple[Metric, Scale | None] | None:
        if survey_type in {"nps", "enps"}:
            return "nps", None
        if survey_type == "csat":
            return "csat", None
        if survey_type == "ces":
            # Delighted asks "X made it easy ...": 1 = strongly disagree, so higher is better, unlike our
            # default CES scale; the webhook does not say whether the project uses 5 or 7 points.
            return "ces", Scale(min=1, max=self.ces_points, higher_is_better=True)
        if survey_type in {"5star", "smileys"}:
            return "rating", _FIVE_POINT_RATING
        return None

    def _respondent(self, data: JsonObject) -> Respondent:
        person = member(data, "person", path="event_data.person")
        properties = member(data, "person_properties", path="event_data.person_properties")
        person_id = text(person.get("id"))
        return Respondent(
            account_id=text(properties.get(self.account_property)),
            stakeholder_ids=(text(person.get("email")), f"delighted:person:{person_id}" if person_id else None),
        )
