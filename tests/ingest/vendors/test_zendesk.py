"""Zendesk: signature with timestamp, good/bad CSAT, identities, retries and changed ratings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.ingest.vendors import PayloadError, SignatureError, ZendeskAdapter
from shared.events import Identities, SurveyResponse, event_key
from shared.personal import record_key_digest
from tests.ingest.vendors.checks import publishable
from tests.ingest.vendors.payloads import NOW, SECRET, create_zendesk_payload, encode, zendesk_headers

ADAPTER = ZendeskAdapter()


def parse_one(payload: dict[str, Any], **header_options: str) -> SurveyResponse:
    body = encode(payload)
    headers = zendesk_headers(body, **header_options)
    ADAPTER.verify(headers, body, SECRET, NOW)
    (event,) = publishable(ADAPTER.parse(body, headers))
    return event


def test_a_good_rating_is_csat_5_with_every_identity_found() -> None:
    event = parse_one(create_zendesk_payload())
    assert (event.metric, event.score, event.scale) == ("csat", 5, None)
    assert event.source == "zendesk"
    assert event.response_id == "zendesk:ticket:35436"
    assert event.occurred_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert event.comment == "Quick and friendly"
    assert (event.account_id, event.stakeholder_id) == (None, None)
    assert event.identities == Identities(
        stakeholder=["jane.doe@acme.example", "zendesk:user:4412"],
        account=["zendesk:org:900017"],
    )


@pytest.mark.parametrize(
    ("rating", "score"),
    [("Good", 5), ("good", 5), ("GOOD", 5), ("good_with_comment", 5), ("Bad", 1), ("bad", 1), ("Bad ", 1)],
)
def test_good_and_bad_in_any_case_are_csat_5_and_1(rating: str, score: int) -> None:
    assert parse_one(create_zendesk_payload(rating=rating)).score == score


def test_external_ids_name_the_stakeholder_and_account_directly() -> None:
    event = parse_one(create_zendesk_payload(requester_external_id="crm-1042", organization_external_id="acme"))
    assert (event.account_id, event.stakeholder_id) == ("acme", "crm-1042")
    assert event.identities is not None
    assert event.identities.stakeholder == ["crm-1042", "jane.doe@acme.example", "zendesk:user:4412"]
    assert event.identities.account == ["acme", "zendesk:org:900017"]


@pytest.mark.parametrize("offset", [timedelta(minutes=5, seconds=1), timedelta(minutes=-5, seconds=-1)])
def test_a_timestamp_more_than_five_minutes_off_is_refused(offset: timedelta) -> None:
    body = encode(create_zendesk_payload())
    signed_at = (NOW + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
    with pytest.raises(SignatureError, match="timestamp"):
        ADAPTER.verify(zendesk_headers(body, timestamp=signed_at), body, SECRET, NOW)


@pytest.mark.parametrize("offset", [timedelta(minutes=5), timedelta(minutes=-5), timedelta(0)])
def test_a_timestamp_within_five_minutes_is_accepted(offset: timedelta) -> None:
    body = encode(create_zendesk_payload())
    signed_at = (NOW + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
    ADAPTER.verify(zendesk_headers(body, timestamp=signed_at), body, SECRET, NOW)


def test_a_signature_for_another_timestamp_is_refused() -> None:
    body = encode(create_zendesk_payload())
    headers = zendesk_headers(body, timestamp="2026-05-01T10:01:30Z")
    headers["x-zendesk-webhook-signature-timestamp"] = "2026-05-01T10:01:31Z"
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(headers, body, SECRET, NOW)


def test_a_signed_but_unreadable_timestamp_is_refused() -> None:
    body = encode(create_zendesk_payload())
    with pytest.raises(SignatureError):
        ADAPTER.verify(zendesk_headers(body, timestamp="yesterday"), body, SECRET, NOW)


def test_a_missing_timestamp_is_refused() -> None:
    body = encode(create_zendesk_payload())
    headers = zendesk_headers(body)
    del headers["x-zendesk-webhook-signature-timestamp"]
    with pytest.raises(SignatureError, match="missing"):
        ADAPTER.verify(headers, body, SECRET, NOW)


def test_a_retry_of_the_same_invocation_maps_to_the_same_event_id() -> None:
    first = parse_one(create_zendesk_payload(), timestamp="2026-05-01T10:01:30Z")
    retry = parse_one(create_zendesk_payload(), timestamp="2026-05-01T10:03:00Z")
    assert retry.event_id == first.event_id
    assert retry == first


def test_without_an_invocation_id_the_body_identifies_the_delivery() -> None:
    body = encode(create_zendesk_payload())
    headers = zendesk_headers(body)
    del headers["x-zendesk-webhook-invocation-id"]
    (first,) = ADAPTER.parse(body, headers).events
    (again,) = ADAPTER.parse(body, headers).events
    (other,) = ADAPTER.parse(encode(create_zendesk_payload(rating="Bad")), headers).events
    assert first.event_id == again.event_id != other.event_id


def test_a_changed_rating_is_a_new_version_of_the_same_answer() -> None:
    first = parse_one(create_zendesk_payload(rating="Good"), invocation_id="8350205582")
    changed = parse_one(
        create_zendesk_payload(rating="Bad", comment="It broke again", updated_at="2026-05-03T08:15Z"),
        invocation_id="8350209914",
    )
    assert changed.response_id == first.response_id
    assert changed.event_id != first.event_id
    assert changed.occurred_at > first.occurred_at
    assert (changed.score, changed.comment) == (1, "It broke again")


@pytest.mark.parametrize("rating", ["Offered", "Unoffered", "", "  ", "okay"])
def test_a_ticket_without_a_good_or_bad_rating_gives_no_event_and_a_reason(rating: str) -> None:
    body = encode(create_zendesk_payload(rating=rating))
    result = ADAPTER.parse(body, zendesk_headers(body))
    assert result.events == ()
    assert result.reason is not None
    assert "35436" in result.reason


def test_a_requester_without_organization_is_published_under_the_requesters_identities() -> None:
    body = encode(create_zendesk_payload(organization_id="", organization_external_id=""))
    result = ADAPTER.parse(body, zendesk_headers(body))
    (event,) = publishable(result)  # validated with EVENT_ADAPTER, as it travels on Kafka
    assert result.reason is None
    assert (event.account_id, event.stakeholder_id) == (None, None)
    assert event.identities == Identities(stakeholder=["jane.doe@acme.example", "zendesk:user:4412"], account=[])
    assert event_key(event) == record_key_digest("jane.doe@acme.example", b"")  # no e-mail in record keys


def test_a_ticket_naming_no_requester_gives_no_event_and_says_why() -> None:
    body = encode(create_zendesk_payload(requester_id="", requester_email=""))
    result = ADAPTER.parse(body, zendesk_headers(body))
    assert result.events == ()
    assert result.reason is not None
    assert "35436" in result.reason
    assert "names no respondent" in result.reason


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"requester": {}}, "ticket is missing"),
        ({"ticket": "35436"}, "ticket must be an object"),
        ({"ticket": {"satisfaction": {"rating": "good"}}}, "ticket.id"),
        ({"ticket": {"id": "1", "satisfaction": {"rating": "good"}}, "organization": {"id": "9"}}, "updated_at"),
        ({"ticket": {"id": "1", "updated_at": "soon", "satisfaction": {"rating": "good"}}}, "updated_at"),
        ({"ticket": {"id": "1", "satisfaction": "good"}}, "ticket.satisfaction must be an object"),
    ],
)
def test_a_body_without_the_template_structure_is_a_payload_error(payload: dict[str, Any], message: str) -> None:
    body = encode(payload)
    with pytest.raises(PayloadError, match=message):
        ADAPTER.parse(body, zendesk_headers(body))
