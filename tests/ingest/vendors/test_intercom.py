"""Intercom: X-Hub-Signature, conversation ratings as CSAT, identities, retries and changed ratings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.vendors import IntercomAdapter, PayloadError
from shared.events import Identities, SurveyResponse, event_key
from shared.personal import record_key_digest
from tests.ingest.vendors.checks import publishable
from tests.ingest.vendors.payloads import NOW, SECRET, create_intercom_payload, encode, intercom_headers

ADAPTER = IntercomAdapter()


def parse_one(payload: dict[str, Any]) -> SurveyResponse:
    body = encode(payload)
    headers = intercom_headers(body)
    ADAPTER.verify(headers, body, SECRET, NOW)
    (event,) = publishable(ADAPTER.parse(body, headers))
    return event


def test_a_rating_is_csat_on_the_default_scale_with_every_identity_found() -> None:
    event = parse_one(create_intercom_payload(rating=4))
    assert (event.metric, event.score, event.scale) == ("csat", 4, None)
    assert event.response_id == "intercom:conversation:147"
    assert event.occurred_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert event.comment == "Solved in minutes"
    assert (event.account_id, event.stakeholder_id) == ("acme", "crm-1042")
    assert event.identities == Identities(
        stakeholder=["crm-1042", "intercom:contact:6657add46abd0167d9419cd2", "jane.doe@acme.example"],
        account=["acme", "intercom:company:6762f0d01bb69f9f2193bb62"],
    )


def test_the_signature_hex_is_compared_case_insensitively() -> None:
    body = encode(create_intercom_payload())
    headers = intercom_headers(body)
    headers["x-hub-signature"] = headers["x-hub-signature"].upper().replace("SHA1=", "sha1=")
    ADAPTER.verify(headers, body, SECRET, NOW)


def test_the_authors_email_counts_only_when_the_author_is_the_rating_contact() -> None:
    payload = create_intercom_payload()
    payload["data"]["item"]["source"]["author"]["id"] = "someone-else"
    event = parse_one(payload)
    assert event.identities is not None
    assert "jane.doe@acme.example" not in event.identities.stakeholder


def test_a_contact_without_external_id_is_named_by_intercom_ids_only() -> None:
    event = parse_one(create_intercom_payload(contact_external_id=None))
    assert event.stakeholder_id is None
    assert event.identities is not None
    assert event.identities.stakeholder == ["intercom:contact:6657add46abd0167d9419cd2", "jane.doe@acme.example"]


def test_a_retry_with_more_delivery_attempts_maps_to_the_same_event_id() -> None:
    first = parse_one(create_intercom_payload(delivery_attempts=1))
    retry = parse_one(create_intercom_payload(delivery_attempts=3))
    assert retry.event_id == first.event_id
    assert retry == first


def test_a_changed_rating_is_a_new_version_of_the_same_answer() -> None:
    first = parse_one(create_intercom_payload(rating=2))
    changed = parse_one(
        create_intercom_payload(notification_id="notif_b1c2", rating=5, remark="Fixed after all", rated_at=1777716000),
    )
    assert changed.response_id == first.response_id
    assert changed.event_id != first.event_id
    assert changed.occurred_at > first.occurred_at
    assert changed.score == 5


def test_only_created_at_is_used_when_the_api_version_has_no_updated_at() -> None:
    payload = create_intercom_payload()
    del payload["data"]["item"]["conversation_rating"]["updated_at"]
    assert parse_one(payload).occurred_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("topic", ["ping", "conversation.admin.closed", ""])
def test_other_topics_give_no_event_and_a_reason(topic: str) -> None:
    body = encode(create_intercom_payload(topic=topic))
    result = ADAPTER.parse(body, intercom_headers(body))
    assert (result.events, result.reason is not None) == ((), True)


@pytest.mark.parametrize("rating", [None, 0, 6])
def test_a_missing_or_off_scale_rating_gives_no_event_and_a_reason(rating: int | None) -> None:
    body = encode(create_intercom_payload(rating=rating))
    result = ADAPTER.parse(body, intercom_headers(body))
    assert result.events == ()
    assert result.reason is not None
    assert "147" in result.reason


def test_a_conversation_without_company_is_published_under_the_contacts_identities() -> None:
    body = encode(create_intercom_payload(company={}))
    result = ADAPTER.parse(body, intercom_headers(body))
    (event,) = publishable(result)  # validated with EVENT_ADAPTER, as it travels on Kafka
    assert result.reason is None
    assert (event.account_id, event.stakeholder_id) == (None, "crm-1042")
    assert event.identities == Identities(
        stakeholder=["crm-1042", "intercom:contact:6657add46abd0167d9419cd2", "jane.doe@acme.example"],
        account=[],
    )
    assert event_key(event) == record_key_digest("crm-1042", b"")  # a person id: digested too


def test_a_rating_naming_no_contact_gives_no_event_and_says_why() -> None:
    body = encode(create_intercom_payload(contact_id="", contact_external_id=None))
    result = ADAPTER.parse(body, intercom_headers(body))
    assert result.events == ()
    assert result.reason is not None
    assert "147" in result.reason
    assert "names no respondent" in result.reason


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.pop("data"), "data is missing"),
        (lambda p: p["data"].pop("item"), "data.item is missing"),
        (lambda p: p["data"]["item"].pop("id"), "data.item.id"),
        (lambda p: p["data"]["item"].update(conversation_rating=[4]), "conversation_rating must be an object"),
        (lambda p: p["data"]["item"]["conversation_rating"].update(updated_at=None, created_at=None), "updated_at"),
    ],
)
def test_a_rating_notification_without_its_structure_is_a_payload_error(mutate: Any, message: str) -> None:
    payload = create_intercom_payload()
    mutate(payload)
    body = encode(payload)
    with pytest.raises(PayloadError, match=message):
        ADAPTER.parse(body, intercom_headers(body))
