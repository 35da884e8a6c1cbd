"""Vendor webhook deliveries built to each vendor's documented layout, and signed as the vendor signs them.

Plain functions: ``create_<vendor>_payload`` returns the JSON object, ``encode`` its bytes, and
``<vendor>_headers`` the request headers (lower-cased) that the vendor would send with those bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

SECRET = "whsec-test-secret"
OTHER_SECRET = "another-vendors-secret"
NOW = datetime(2026, 5, 1, 10, 2, 0, tzinfo=UTC)


def encode(payload: dict[str, Any]) -> bytes:
    """The body bytes a vendor sends: compact JSON, as Zendesk and Typeform render it."""
    return json.dumps(payload, separators=(",", ":")).encode()


# --- Zendesk: our template, rendered by a trigger (every placeholder inside quotes renders text) -----


def create_zendesk_payload(
    *,
    ticket_id: str = "35436",
    rating: str = "Good",
    comment: str = "Quick and friendly",
    updated_at: str = "2026-05-01T10:00Z",
    requester_id: str = "4412",
    requester_email: str = "jane.doe@acme.example",
    requester_external_id: str = "",
    organization_id: str = "900017",
    organization_external_id: str = "",
) -> dict[str, Any]:
    """Our Zendesk template as a trigger renders it; an unset placeholder renders as an empty string."""
    return {
        "ticket": {
            "id": ticket_id,
            "updated_at": updated_at,
            "satisfaction": {"rating": rating, "comment": comment},
        },
        "requester": {"id": requester_id, "email": requester_email, "external_id": requester_external_id},
        "organization": {"id": organization_id, "external_id": organization_external_id},
    }


def zendesk_headers(
    body: bytes,
    *,
    secret: str = SECRET,
    timestamp: str = "2026-05-01T10:01:30Z",
    invocation_id: str = "8350205582",
) -> dict[str, str]:
    """The headers of a Zendesk webhook request, signed over timestamp + body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return {
        "content-type": "application/json",
        "x-zendesk-account-id": "123456",
        "x-zendesk-webhook-id": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "x-zendesk-webhook-invocation-id": invocation_id,
        "x-zendesk-webhook-signature": base64.b64encode(digest).decode(),
        "x-zendesk-webhook-signature-timestamp": timestamp,
    }


# --- Intercom: a notification_event for topic conversation.rating.added ------------------------------


def create_intercom_payload(
    *,
    notification_id: str = "notif_4e3504a3-ba3f-46dc-ab48-8e4d5bdfdf4e",
    topic: str = "conversation.rating.added",
    conversation_id: str = "147",
    rating: int | None = 4,
    remark: str = "Solved in minutes",
    rated_at: int = 1777629600,
    contact_id: str = "6657add46abd0167d9419cd2",
    contact_external_id: str | None = "crm-1042",
    author_email: str = "jane.doe@acme.example",
    company: dict[str, Any] | None = None,
    delivery_attempts: int = 1,
) -> dict[str, Any]:
    """A ``conversation.rating.added`` notification as Intercom's webhook models describe it."""
    contact = {"type": "contact", "id": contact_id, "external_id": contact_external_id}
    return {
        "type": "notification_event",
        "app_id": "a86dr8yl",
        "id": notification_id,
        "topic": topic,
        "delivery_status": "pending",
        "delivery_attempts": delivery_attempts,
        "delivered_at": 0,
        "first_sent_at": rated_at + 2,
        "created_at": rated_at + 1,
        "self": None,
        "links": {},
        "data": {
            "type": "notification_event_data",
            "item": {
                "type": "conversation",
                "id": conversation_id,
                "created_at": rated_at - 3600,
                "updated_at": rated_at,
                "source": {
                    "type": "conversation",
                    "id": "403918330",
                    "delivered_as": "customer_initiated",
                    "author": {"type": "user", "id": contact_id, "name": "Jane Doe", "email": author_email},
                },
                "contacts": {"type": "contact.list", "contacts": [contact]},
                "conversation_rating": {
                    "rating": rating,
                    "remark": remark,
                    "created_at": rated_at,
                    "updated_at": rated_at,
                    "contact": contact,
                    "teammate": {"type": "admin", "id": "814860"},
                },
                "company": company
                if company is not None
                else {"type": "company", "id": "6762f0d01bb69f9f2193bb62", "company_id": "acme"},
            },
        },
    }


def intercom_headers(body: bytes, *, secret: str = SECRET) -> dict[str, str]:
    """The headers of an Intercom notification, signed with the app's client secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return {"content-type": "application/json", "x-hub-signature": f"sha1={digest}"}


# --- Typeform: a form_response with its form definition -------------------------------------------


def create_typeform_payload(
    *,
    event_id: str = "01HZ5W8K3Q9X2B7N4M6P0R1S2T",
    submission_id: str = "a3a12ec67a1365927098a606107fac15",
    submitted_at: str = "2026-05-01T10:00:00Z",
    nps: int | None = 9,
    ease: int | None = 4,
    stars: int | None = 5,
    comment: str | None = "The onboarding was smooth",
    hidden: dict[str, str] | None = None,
    ease_properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``form_response`` with an NPS, an opinion scale (1-5), a 5-star rating and a long text answer."""
    fields = [
        {"id": "nPs0aB1c2D3e", "title": "How likely are you to recommend us?", "type": "nps", "ref": "recommend"},
        {
            "id": "oPn1aB2c3D4f",
            "title": "How easy was it to get started?",
            "type": "opinion_scale",
            "ref": "ease",
            "properties": {"steps": 5, "start_at_one": True} if ease_properties is None else ease_properties,
        },
        {
            "id": "rTg2aB3c4D5g",
            "title": "Rate our support",
            "type": "rating",
            "ref": "support",
            "properties": {"steps": 5, "shape": "star"},
        },
        {"id": "lTx3aB4c5D6h", "title": "Anything else?", "type": "long_text", "ref": "anything_else"},
        {"id": "eMl4aB5c6D7i", "title": "Your email", "type": "email", "ref": "email"},
    ]
    answers: list[dict[str, Any]] = []
    if nps is not None:
        answers.append(_answer("number", nps, field_id="nPs0aB1c2D3e", kind="nps", ref="recommend"))
    if ease is not None:
        answers.append(_answer("number", ease, field_id="oPn1aB2c3D4f", kind="opinion_scale", ref="ease"))
    if stars is not None:
        answers.append(_answer("number", stars, field_id="rTg2aB3c4D5g", kind="rating", ref="support"))
    if comment is not None:
        answers.append(_answer("text", comment, field_id="lTx3aB4c5D6h", kind="long_text", ref="anything_else"))
    answers.append(_answer("email", "typed@example.com", field_id="eMl4aB5c6D7i", kind="email", ref="email"))
    return {
        "event_id": event_id,
        "event_type": "form_response",
        "form_response": {
            "form_id": "lT4Z3j",
            "token": submission_id,
            "landed_at": "2026-05-01T09:58:00Z",
            "submitted_at": submitted_at,
            "hidden": {"stakeholder_id": "crm-1042", "account_id": "acme", "email": "jane.doe@acme.example"}
            if hidden is None
            else hidden,
            "definition": {"id": "lT4Z3j", "title": "Quarterly check-in", "fields": fields},
            "answers": answers,
        },
    }


def _answer(value_type: str, value: object, *, field_id: str, kind: str, ref: str) -> dict[str, Any]:
    """One entry of ``form_response.answers``: the value under its type's key, and the field it answers."""
    return {"type": value_type, value_type: value, "field": {"id": field_id, "type": kind, "ref": ref}}


def typeform_headers(body: bytes, *, secret: str = SECRET) -> dict[str, str]:
    """The headers of a Typeform webhook request, signed with the webhook's secret."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {"content-type": "application/json", "typeform-signature": "sha256=" + base64.b64encode(digest).decode()}


# --- Delighted: survey_response.created / .updated ---------------------------------------------------


def create_delighted_payload(
    *,
    event_type: str = "survey_response.created",
    event_id: str = "b8d057c59327541d7ec2104c0a9a255ad1997fb00831b9c6bbf09561e6d5cbd0",
    response_id: str = "5435",
    survey_type: str | None = "nps",
    score: float | None = 9,
    comment: str | None = None,
    updated_at: int = 1777629600,
    person_properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A survey response webhook as Delighted's API documentation shows it."""
    data: dict[str, Any] = {
        "id": response_id,
        "person": {"id": "5975", "email": "jane.doe@acme.example", "name": "Jane Doe", "created_at": 1777620000},
        "score": score,
        "comment": comment,
        "permalink": "https://app.delighted.com/r/5pFDpmlyC8GUc5oxU6USto5VonSKAqOa",
        "created_at": 1777629600,
        "updated_at": updated_at,
        "person_properties": {"Account ID": "acme", "Plan": "Enterprise"}
        if person_properties is None
        else person_properties,
        "notes": [],
        "tags": [],
        "additional_answers": [],
    }
    if survey_type is not None:
        data["survey_type"] = survey_type
    return {"event_type": event_type, "event_id": event_id, "event_data": data}


def delighted_headers(body: bytes, *, secret: str = SECRET) -> dict[str, str]:
    """The headers of a Delighted webhook request, signed with the project's key."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "x-delighted-webhook-signature": f"sha256={digest}"}


# --- Freshdesk: our template, rendered by an automation rule ----------------------------------------


def create_freshdesk_payload(
    *,
    ticket_id: int = 2051,
    rating: int | str = 103,
    comment: str = "Sorted out quickly",
    email: str = "jane.doe@acme.example",
    company_id: int | None = 43000700001,
    sent_at: str = "2026-05-01T10:00:00Z",
) -> dict[str, Any]:
    """Our Freshdesk template as an automation rule renders it (ids unquoted, so they arrive as numbers)."""
    return {
        "ticket": {"id": ticket_id},
        "feedback": {"rating": rating, "comment": comment},
        "contact": {"email": email},
        "company": {"id": company_id},
        "sent_at": sent_at,
    }


def freshdesk_headers(*, secret: str = SECRET) -> dict[str, str]:
    """The headers of a Freshdesk webhook: the custom ``Authorization`` header set on the rule."""
    return {"content-type": "application/json", "authorization": f"Bearer {secret}"}
