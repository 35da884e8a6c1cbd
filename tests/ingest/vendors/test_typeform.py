"""Typeform: one event per scored field, scales from the form definition, hidden fields as identities."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest.vendors import PayloadError, TypeformAdapter, VendorResult
from shared.events import Identities, Scale, SurveyResponse, event_key
from shared.personal import record_key_digest
from tests.ingest.vendors.checks import publishable
from tests.ingest.vendors.payloads import NOW, SECRET, create_typeform_payload, encode, typeform_headers

ADAPTER = TypeformAdapter()


def parse(payload: dict[str, Any]) -> VendorResult:
    body = encode(payload)
    headers = typeform_headers(body)
    ADAPTER.verify(headers, body, SECRET, NOW)
    return ADAPTER.parse(body, headers)


def by_dimension(result: VendorResult) -> dict[str | None, SurveyResponse]:
    return {event.dimension: event for event in publishable(result)}


def test_every_scored_field_is_one_event_with_its_ref_as_dimension() -> None:
    events = by_dimension(parse(create_typeform_payload(nps=9, ease=4, stars=5)))
    assert set(events) == {"recommend", "ease", "support"}
    recommend, ease, support = events["recommend"], events["ease"], events["support"]
    assert (recommend.metric, recommend.score, recommend.scale) == ("nps", 9, None)
    assert (ease.metric, ease.score, ease.scale) == ("rating", 4, Scale(min=1, max=5))
    assert (support.metric, support.score, support.scale) == ("rating", 5, Scale(min=1, max=5))
    for event in events.values():
        assert event.response_id == f"typeform:a3a12ec67a1365927098a606107fac15:{event.dimension}"
        assert event.occurred_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
        assert event.comment == "The onboarding was smooth"
        assert (event.account_id, event.stakeholder_id) == ("acme", "crm-1042")
        assert event.identities == Identities(stakeholder=["crm-1042", "jane.doe@acme.example"], account=["acme"])
    assert len({event.event_id for event in events.values()}) == 3


def test_an_opinion_scale_not_starting_at_one_starts_at_zero() -> None:
    payload = create_typeform_payload(ease=0, ease_properties={"steps": 11, "start_at_one": False})
    assert by_dimension(parse(payload))["ease"].scale == Scale(min=0, max=10)


def test_an_email_in_hidden_fields_names_the_respondent_when_no_stakeholder_id_is_given() -> None:
    events = by_dimension(
        parse(create_typeform_payload(hidden={"email": "jane.doe@acme.example", "account_id": "acme"}))
    )
    for event in events.values():
        assert (event.account_id, event.stakeholder_id) == ("acme", None)
        assert event.identities == Identities(stakeholder=["jane.doe@acme.example"], account=["acme"])


def test_a_retry_of_the_same_event_maps_to_the_same_event_ids() -> None:
    first = by_dimension(parse(create_typeform_payload()))
    retry = by_dimension(parse(create_typeform_payload()))
    assert {k: e.event_id for k, e in retry.items()} == {k: e.event_id for k, e in first.items()}


def test_the_same_answers_in_another_delivery_keep_their_response_ids() -> None:
    first = by_dimension(parse(create_typeform_payload()))
    again = by_dimension(
        parse(create_typeform_payload(event_id="01HZ5XAAAAAAAAAAAAAAAAAAAA", submitted_at="2026-05-01T10:05:00Z"))
    )
    for ref, event in again.items():
        assert event.response_id == first[ref].response_id
        assert event.event_id != first[ref].event_id
        assert event.occurred_at > first[ref].occurred_at


def test_a_field_without_steps_in_the_definition_is_skipped_with_a_reason() -> None:
    result = parse(create_typeform_payload(ease_properties={}))
    assert set(by_dimension(result)) == {"recommend", "support"}
    assert result.reason is not None
    assert "ease" in result.reason


def test_a_response_without_scored_answers_gives_no_event_and_a_reason() -> None:
    result = parse(create_typeform_payload(nps=None, ease=None, stars=None))
    assert result.events == ()
    assert result.reason is not None


def test_a_response_without_an_account_is_published_under_the_respondents_identities() -> None:
    result = parse(create_typeform_payload(hidden={"email": "jane.doe@acme.example"}))
    events = by_dimension(result)  # each validated with EVENT_ADAPTER, as it travels on Kafka
    assert set(events) == {"recommend", "ease", "support"}
    assert result.reason is None
    for event in events.values():
        assert (event.account_id, event.stakeholder_id) == (None, None)
        assert event.identities == Identities(stakeholder=["jane.doe@acme.example"], account=[])
        assert event_key(event) == record_key_digest("jane.doe@acme.example", b"")  # no e-mail in record keys


def test_a_response_naming_no_respondent_gives_no_event_and_says_why() -> None:
    result = parse(create_typeform_payload(hidden={"account_id": "acme"}))
    assert result.events == ()
    assert result.reason is not None
    assert "names no respondent" in result.reason


def test_an_off_scale_answer_is_skipped_and_the_others_kept() -> None:
    result = parse(create_typeform_payload(ease=9))
    assert set(by_dimension(result)) == {"recommend", "support"}
    assert result.reason is not None
    assert "outside the scale" in result.reason


def test_other_event_types_give_no_event() -> None:
    payload = create_typeform_payload()
    payload["event_type"] = "form_partial_response"
    result = parse(payload)
    assert (result.events, result.reason is not None) == ((), True)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p.pop("form_response"), "form_response is missing"),
        (lambda p: p["form_response"].pop("token"), "form_response.token"),
        (lambda p: p["form_response"].update(answers={"a": 1}), "answers must be an array"),
        (lambda p: p["form_response"]["answers"].append("nine"), r"answers\[5\] must be an object"),
        (lambda p: p["form_response"].pop("submitted_at"), "submitted_at"),
    ],
)
def test_a_form_response_without_its_structure_is_a_payload_error(mutate: Any, message: str) -> None:
    payload = create_typeform_payload()
    mutate(payload)
    with pytest.raises(PayloadError, match=message):
        parse(payload)


def test_a_long_ref_is_cut_for_the_dimension_and_hashed_in_the_response_id() -> None:
    payload = create_typeform_payload(nps=8, ease=None, stars=None)
    long_ref = "r" * 300
    payload["form_response"]["answers"][0]["field"]["ref"] = long_ref
    (event,) = publishable(parse(payload))
    assert event.dimension == "r" * 64
    assert event.response_id is not None
    assert len(event.response_id) == 256
    assert event.response_id.startswith("typeform:a3a12ec67a1365927098a606107fac15:rrr")


def test_lone_surrogates_in_text_are_replaced_not_fatal() -> None:
    payload = create_typeform_payload(comment="broken \ud800 text")
    events = publishable(parse(payload))
    assert events
    assert all(event.comment == "broken ? text" for event in events)


REQUEST_ID = "req_" + "a1" * 16


def test_the_hidden_field_request_id_is_carried_on_every_answer() -> None:
    hidden = {
        "stakeholder_id": "crm-1042",
        "account_id": "acme",
        "request_id": REQUEST_ID.upper().replace("REQ", "req"),
    }
    events = publishable(parse(create_typeform_payload(hidden=hidden)))
    assert events
    assert {e.request_id for e in events} == {REQUEST_ID}


@pytest.mark.parametrize("value", ["", "   ", "req_123", "not-a-request", "req_" + "g" * 32, "x" * 300])
def test_a_hidden_request_id_that_is_not_one_is_dropped_and_the_answer_kept(value: str) -> None:
    hidden = {"stakeholder_id": "crm-1042", "account_id": "acme", "request_id": value}
    events = publishable(parse(create_typeform_payload(hidden=hidden)))
    assert events
    assert {e.request_id for e in events} == {None}
