"""Freshdesk: bearer secret, codes 103 ... -103 on a 7-point rating, body-hash delivery ids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.vendors import FreshdeskAdapter, PayloadError, SignatureError
from shared.events import Identities, Scale, SurveyResponse, event_key
from shared.personal import record_key_digest
from tests.ingest.vendors.checks import publishable
from tests.ingest.vendors.payloads import NOW, SECRET, create_freshdesk_payload, encode, freshdesk_headers

ADAPTER = FreshdeskAdapter()


def parse_one(payload: dict[str, Any]) -> SurveyResponse:
    body = encode(payload)
    headers = freshdesk_headers()
    ADAPTER.verify(headers, body, SECRET, NOW)
    (event,) = publishable(ADAPTER.parse(body, headers))
    return event


def test_feedback_is_a_seven_point_rating_with_every_identity_found() -> None:
    event = parse_one(create_freshdesk_payload(rating=103))
    assert (event.metric, event.score, event.scale) == ("rating", 7, Scale(min=1, max=7))
    assert event.response_id == "freshdesk:ticket:2051"
    assert event.occurred_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert event.comment == "Sorted out quickly"
    assert (event.account_id, event.stakeholder_id) == (None, None)
    assert event.identities == Identities(
        stakeholder=["jane.doe@acme.example"],
        account=["freshdesk:company:43000700001"],
    )


@pytest.mark.parametrize(
    ("code", "score"),
    [(103, 7), (102, 6), (101, 5), (100, 4), (-101, 3), (-102, 2), (-103, 1), ("103", 7), ("-101", 3), (100.0, 4)],
)
def test_each_rating_code_has_its_place_and_neutral_is_the_midpoint(code: int | str, score: int) -> None:
    assert parse_one(create_freshdesk_payload(rating=code)).score == score


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(scheme: str) -> None:
    ADAPTER.verify({"authorization": f"{scheme} {SECRET}"}, b"{}", SECRET, NOW)


@pytest.mark.parametrize("value", [f"Basic {SECRET}", SECRET, "Bearer", f"Bearer {SECRET}x"])
def test_anything_but_bearer_with_the_secret_is_refused(value: str) -> None:
    with pytest.raises(SignatureError):
        ADAPTER.verify({"authorization": value}, b"{}", SECRET, NOW)


def test_the_secret_does_not_cover_the_body() -> None:
    # Freshdesk signs nothing: a body changed in transit still passes, which is why TLS is required.
    tampered = encode(create_freshdesk_payload(rating=-103))
    ADAPTER.verify(freshdesk_headers(), tampered, SECRET, NOW)


def test_a_retry_of_the_same_body_maps_to_the_same_event_id() -> None:
    assert parse_one(create_freshdesk_payload()) == parse_one(create_freshdesk_payload())


def test_a_changed_rating_is_a_new_version_of_the_same_answer() -> None:
    first = parse_one(create_freshdesk_payload(rating=-102))
    changed = parse_one(create_freshdesk_payload(rating=102, sent_at="2026-05-02T09:00:00+02:00"))
    assert changed.response_id == first.response_id
    assert changed.event_id != first.event_id
    assert changed.occurred_at > first.occurred_at
    assert changed.score == 6


def test_a_quoted_company_placeholder_that_rendered_empty_is_published_under_the_contact() -> None:
    payload = create_freshdesk_payload()
    payload["company"]["id"] = ""
    body = encode(payload)
    result = ADAPTER.parse(body, freshdesk_headers())
    (event,) = publishable(result)  # validated with EVENT_ADAPTER, as it travels on Kafka
    assert result.reason is None
    assert (event.account_id, event.stakeholder_id) == (None, None)
    assert event.identities == Identities(stakeholder=["jane.doe@acme.example"], account=[])
    assert event_key(event) == record_key_digest("jane.doe@acme.example", b"")  # no e-mail in record keys


def test_a_ticket_naming_no_contact_gives_no_event_and_says_why() -> None:
    body = encode(create_freshdesk_payload(email=""))
    result = ADAPTER.parse(body, freshdesk_headers())
    assert result.events == ()
    assert result.reason is not None
    assert "2051" in result.reason
    assert "names no respondent" in result.reason


@pytest.mark.parametrize("code", [0, 5, 104, -100, "happy", None, True, 102.5])
def test_an_unknown_rating_code_gives_no_event_and_a_reason(code: Any) -> None:
    body = encode(create_freshdesk_payload(rating=code))
    result = ADAPTER.parse(body, freshdesk_headers())
    assert result.events == ()
    assert result.reason is not None
    assert "2051" in result.reason


def test_the_unquoted_company_placeholder_rendering_empty_is_malformed_json() -> None:
    body = (
        b'{"ticket": {"id": 2051}, "feedback": {"rating": 103}, "company": {"id": }, "sent_at": "2026-05-01T10:00:00Z"}'
    )
    with pytest.raises(PayloadError, match="not valid JSON"):
        ADAPTER.parse(body, freshdesk_headers())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.pop("ticket"), "ticket is missing"),
        (lambda p: p["ticket"].pop("id"), "ticket.id"),
        (lambda p: p.update(feedback=103), "feedback must be an object"),
        (lambda p: p.pop("sent_at"), "sent_at"),
        (lambda p: p.update(sent_at="<ISO time>"), "sent_at"),
    ],
)
def test_a_body_without_the_template_structure_is_a_payload_error(mutate: Any, message: str) -> None:
    payload = create_freshdesk_payload()
    mutate(payload)
    with pytest.raises(PayloadError, match=message):
        ADAPTER.parse(encode(payload), freshdesk_headers())
