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
from services.ingest.vendors.links import NO_LINK_SECRET, LinkIdentity, LinkPolicy
from shared.events import Metric, Scale

SIGNATURE_HEADER: Final = "x-delighted-webhook-signature"
DEFAULT_ACCOUNT_PROPERTY: Final = "Account ID"
DEFAULT_CES_POINTS: Final = 7
REQUEST_ID_PROPERTY: Final = "Request ID"  # the person property carrying a survey request's id
# Person properties that carry the signed link (docs/vendors/delighted.md, "Who answered").
LINK_TOKEN_PROPERTY: Final = "Link Token"  # noqa: S105 - a property name, not a credential
STAKEHOLDER_PROPERTY: Final = "Stakeholder ID"
RESPONSE_EVENTS: Final = frozenset({"survey_response.created", "survey_response.updated"})

# Delighted's 5-star and smileys surveys are 1-5 satisfaction scales without a CSAT label of their own.
_FIVE_POINT_RATING: Final = Scale(min=1, max=5, higher_is_better=True)


@dataclass(frozen=True, slots=True)
class DelightedAdapter:
    """Delighted responses: the metric from ``survey_type``, the account from a person property.

    Person properties and the email can be set by survey-link parameters, so the respondent is
    ``signed_link`` only when the ``Link Token`` property vouches for them, else ``unverified``.
    """

    account_property: str = DEFAULT_ACCOUNT_PROPERTY
    ces_points: int = DEFAULT_CES_POINTS
    links: LinkPolicy = NO_LINK_SECRET

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
        link = self._link(data)
        try:
            event = make_event(
                source=self.source,
                event_id=event_id(self.source, delivery, "survey_response"),
                # A signed link answers once, however often it is used; .updated keeps the same id.
                response_id=(
                    response_id(self.source, "link", link.token_digest, survey_type)
                    if link.token_digest is not None
                    else response_id(self.source, "response", answer_id)
                ),
                occurred_at=occurred_at,
                metric=metric,
                score=score,
                scale=scale,
                respondent=link.respondent,
                identity=link.basis,
                comment=text(data.get("comment")),
                request_id=self._request_id(data),
            )
        except UnusableAnswerError as exc:
            return VendorResult.nothing(f"survey response {answer_id}: {exc.reason}")
        return VendorResult(events=(event,), unverified_reason=link.refusal)

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

    @staticmethod
    def _request_id(data: JsonObject) -> str | None:
        """The survey request's id, from the person property ``Request ID`` (docs/vendors/delighted.md)."""
        properties = member(data, "person_properties", path="event_data.person_properties")
        return text(properties.get(REQUEST_ID_PROPERTY))

    def _link(self, data: JsonObject) -> LinkIdentity:
        person = member(data, "person", path="event_data.person")
        properties = member(data, "person_properties", path="event_data.person_properties")
        person_id = text(person.get("id"))
        email = text(person.get("email"))
        stakeholder_id = text(properties.get(STAKEHOLDER_PROPERTY))
        account_id = text(properties.get(self.account_property))
        # Delighted's person id is its record of the email: signed with it when the token signs the email.
        vendor_ids = (email, f"delighted:person:{person_id}" if person_id else None)
        named = Respondent(stakeholder_id=stakeholder_id, account_id=account_id, stakeholder_ids=vendor_ids)
        return self.links.identify(
            token=text(properties.get(LINK_TOKEN_PROPERTY)),
            account_id=account_id,
            person_id=stakeholder_id or email,
            named=named,
            signed=Respondent(stakeholder_id=stakeholder_id, account_id=account_id)
            if stakeholder_id
            else Respondent(account_id=account_id, stakeholder_ids=vendor_ids),
        )
