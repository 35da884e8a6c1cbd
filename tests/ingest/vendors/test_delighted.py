"""Delighted: metric from survey_type, the account from a configurable person property, .updated versions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.vendors import DelightedAdapter, PayloadError, SignatureError
from shared.events import Identities, Scale, SurveyResponse, event_key
from shared.personal import record_key_digest
from tests.ingest.vendors.checks import publishable
from tests.ingest.vendors.payloads import NOW, SECRET, create_delighted_payload, delighted_headers, encode

ADAPTER = DelightedAdapter()


def parse_one(payload: dict[str, Any], adapter: DelightedAdapter = ADAPTER) -> SurveyResponse:
    body = encode(payload)
    headers = delighted_headers(body)
    adapter.verify(headers, body, SECRET, NOW)
    (event,) = publishable(adapter.parse(body, headers))
    return event


def test_an_nps_response_is_nps_with_the_account_property_as_account() -> None:
    event = parse_one(create_delighted_payload(score=9, comment="Fast and flawless"))
    assert (event.metric, event.score, event.scale) == ("nps", 9, None)
    assert event.response_id == "delighted:response:5435"
    assert event.occurred_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert event.comment == "Fast and flawless"
    assert (event.account_id, event.stakeholder_id) == ("acme", None)
    assert event.identities == Identities(
        stakeholder=["jane.doe@acme.example", "delighted:person:5975"],
        account=["acme"],
    )


def test_the_account_property_name_is_configurable() -> None:
    adapter = DelightedAdapter(account_property="Company ID")
    event = parse_one(create_delighted_payload(person_properties={"Company ID": 4711}), adapter)
    assert event.account_id == "4711"


@pytest.mark.parametrize(
    ("survey_type", "score", "metric", "scale"),
    [
        ("nps", 0, "nps", None),
        ("enps", 10, "nps", None),
        ("csat", 4, "csat", None),
        ("ces", 6, "ces", Scale(min=1, max=7, higher_is_better=True)),
        ("5star", 3, "rating", Scale(min=1, max=5)),
        ("smileys", 1, "rating", Scale(min=1, max=5)),
        (None, 7, "nps", None),
    ],
)
def test_the_metric_follows_the_survey_type(
    survey_type: str | None, score: int, metric: str, scale: Scale | None
) -> None:
    event = parse_one(create_delighted_payload(survey_type=survey_type, score=score))
    assert (event.metric, event.score, event.scale) == (metric, score, scale)


def test_a_five_point_ces_project_is_configured_by_its_points() -> None:
    event = parse_one(create_delighted_payload(survey_type="ces", score=5), DelightedAdapter(ces_points=5))
    assert event.scale == Scale(min=1, max=5, higher_is_better=True)


def test_a_bare_hex_signature_is_accepted_and_a_wrong_one_refused() -> None:
    body = encode(create_delighted_payload())
    headers = delighted_headers(body)
    headers["x-delighted-webhook-signature"] = headers["x-delighted-webhook-signature"].removeprefix("sha256=")
    ADAPTER.verify(headers, body, SECRET, NOW)
    headers["x-delighted-webhook-signature"] = "sha1=" + headers["x-delighted-webhook-signature"]
    with pytest.raises(SignatureError):
        ADAPTER.verify(headers, body, SECRET, NOW)


def test_a_retry_of_the_same_event_maps_to_the_same_event_id() -> None:
    assert parse_one(create_delighted_payload()) == parse_one(create_delighted_payload())


def test_an_updated_response_replaces_the_created_one() -> None:
    created = parse_one(create_delighted_payload(score=6))
    updated = parse_one(
        create_delighted_payload(
            event_type="survey_response.updated",
            event_id="c9e1f3",
            score=8,
            comment="Support came through",
            updated_at=1777630200,
        ),
    )
    assert updated.response_id == created.response_id
    assert updated.event_id != created.event_id
    assert updated.occurred_at > created.occurred_at
    assert (updated.score, updated.comment) == (8, "Support came through")


@pytest.mark.parametrize(
    "payload",
    [
        create_delighted_payload(score=None),
        create_delighted_payload(survey_type="thumbs", score=1),
        create_delighted_payload(survey_type="pmf", score=3),
        create_delighted_payload(event_type="unsubscribe.created"),
        create_delighted_payload(survey_type="nps", score=11),
    ],
    ids=["no-score", "thumbs", "pmf", "unsubscribe", "off-scale"],
)
def test_a_response_without_usable_score_gives_no_event_and_a_reason(payload: dict[str, Any]) -> None:
    body = encode(payload)
    result = ADAPTER.parse(body, delighted_headers(body))
    assert result.events == ()
    assert result.reason is not None


@pytest.mark.parametrize("properties", [{}, {"Account ID": ""}, {"Plan": "Enterprise"}])
def test_a_person_without_the_account_property_is_published_under_their_identities(
    properties: dict[str, Any],
) -> None:
    body = encode(create_delighted_payload(person_properties=properties))
    result = ADAPTER.parse(body, delighted_headers(body))
    (event,) = publishable(result)  # validated with EVENT_ADAPTER, as it travels on Kafka
    assert result.reason is None
    assert (event.account_id, event.stakeholder_id) == (None, None)
    assert event.identities == Identities(
        stakeholder=["jane.doe@acme.example", "delighted:person:5975"],
        account=[],
    )
    assert event_key(event) == record_key_digest("jane.doe@acme.example", b"")  # no e-mail in record keys


def test_a_response_naming_no_person_gives_no_event_and_says_why() -> None:
    payload = create_delighted_payload()
    payload["event_data"]["person"] = {"name": "Jane Doe"}
    body = encode(payload)
    result = ADAPTER.parse(body, delighted_headers(body))
    assert result.events == ()
    assert result.reason is not None
    assert "names no respondent" in result.reason


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.pop("event_data"), "event_data is missing"),
        (lambda p: p["event_data"].pop("id"), "event_data.id"),
        (lambda p: p["event_data"].update(person_properties=["acme"]), "person_properties must be an object"),
        (lambda p: p["event_data"].update(updated_at=None, created_at=None), "updated_at"),
        (lambda p: p["event_data"].update(updated_at=10**20), "updated_at"),
    ],
)
def test_a_survey_response_without_its_structure_is_a_payload_error(mutate: Any, message: str) -> None:
    payload = create_delighted_payload()
    mutate(payload)
    body = encode(payload)
    with pytest.raises(PayloadError, match=message):
        ADAPTER.parse(body, delighted_headers(body))


REQUEST_ID = "req_" + "0f" * 16


def test_the_request_id_person_property_is_carried() -> None:
    properties = {"Account ID": "acme", "Request ID": f" {REQUEST_ID} "}
    event = parse_one(create_delighted_payload(person_properties=properties))
    assert event.request_id == REQUEST_ID


@pytest.mark.parametrize("value", [None, 42, "", "req_short", "req_" + "Z" * 32])
def test_a_request_id_property_that_is_not_one_is_dropped_and_the_answer_kept(value: object) -> None:
    properties = {"Account ID": "acme", "Request ID": value}
    event = parse_one(create_delighted_payload(person_properties=properties))
    assert event.request_id is None
    assert event.score == 9
