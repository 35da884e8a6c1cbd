"""The canonical event schemas: what is accepted, what is refused and why."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shared.events import (
    EVENT_ADAPTER,
    StakeholderEvent,
    SurveyResponse,
    assign_event_id,
    decode_event,
    encode_event,
    event_key,
)
from tests.factories import create_account, create_moment, create_stakeholder, create_survey


def errors_of(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        EVENT_ADAPTER.validate_python(body)
    return [(".".join(str(p) for p in e["loc"][1:]), e["msg"]) for e in info.value.errors()]


@pytest.mark.parametrize(
    "body",
    [
        create_survey(),
        create_survey(metric="csat", score=4),
        create_survey(metric="ces", score=1),
        create_survey(metric="neteasy", score=7),
        create_survey(metric="rating", score=3.5, scale={"min": 1, "max": 10, "higher_is_better": False}),
        create_survey(occurred_at="2026-05-01T10:00:00.123456+02:00", dimension="value", moment="onboarding"),
        create_moment(attributes={"renewal_date": "2027-02-01"}),
        create_account(name="Acme", renewal_date="2027-02-01", annual_value=120000, aliases=["zendesk:org:1"]),
        create_stakeholder(role="procurement", side="supplier", influence=2.5, aliases=["zendesk:user:1"]),
        create_stakeholder(role="it", decision_maker=True),
        create_stakeholder(role="finance", decision_maker=False),
        create_stakeholder(decision_maker=None),
        create_stakeholder(contactable=False),
        create_survey(request_id="req_" + "0123456789abcdef" * 2),
    ],
)
def test_valid_events_parse_and_round_trip(body: dict[str, Any]) -> None:
    event = EVENT_ADAPTER.validate_python(body)
    assign_event_id(event)
    assert decode_event(encode_event(event)) == event


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        (create_survey(occurred_at="2026-05-01T10:00:00"), "occurred_at", "RFC 3339"),
        (create_survey(occurred_at="2026-05-01"), "occurred_at", "RFC 3339"),
        (create_survey(occurred_at=1714557600), "occurred_at", "RFC 3339"),
        (create_survey(score=11), "score", "outside the scale 0..10"),
        (create_survey(metric="csat", score=0), "score", "outside the scale 1..5"),
        (create_survey(score=True), "score", "must be a number"),
        (create_survey(score="9"), "score", "must be a number"),
        (create_survey(metric="rating", score=3), "scale", "required for metric 'rating'"),
        (create_survey(metric="rating", score=3, scale={"min": 5, "max": 1}), "scale", "below scale.max"),
        (create_survey(scale={"min": 0, "max": 5}), "scale", "0-10"),
        (create_survey(metric="stars"), "metric", "Input should be"),
        (create_survey(account_id=""), "account_id", "at least 1 character"),
        (create_survey(account_id="a" * 129), "account_id", "at most 128"),
        (create_survey(event_id="x" * 129), "event_id", "at most 128"),
        (create_survey(event_id=""), "event_id", "at least 1 character"),
        (create_survey(unknown=1), "unknown", "Extra inputs"),
        (create_stakeholder(role="ceo"), "role", "Input should be"),
        (create_stakeholder(influence=0), "influence", "greater than 0"),
        (create_stakeholder(decision_maker="yes"), "decision_maker", "true, false or null"),
        (create_stakeholder(decision_maker=1), "decision_maker", "true, false or null"),
        (create_stakeholder(contactable="no"), "contactable", "contactable must be true, false or null"),
        (create_survey(request_id="req_123"), "request_id", "should match pattern"),
        (create_survey(request_id=42), "request_id", "valid string"),
        (create_account(renewal_date="soon"), "renewal_date", "valid date"),
    ],
)
def test_invalid_events_name_the_field(body: dict[str, Any], field: str, fragment: str) -> None:
    errors = errors_of(body)
    assert any(f == field and fragment in msg for f, msg in errors), errors


def test_missing_account_and_stakeholder_are_reported_per_field() -> None:
    body = create_survey()
    del body["account_id"], body["stakeholder_id"]
    fields = {f for f, _ in errors_of(body)}
    assert fields == {"account_id", "stakeholder_id"}


def test_identities_stand_in_for_unknown_ids() -> None:
    body = create_survey(identities={"stakeholder": ["zendesk:user:1"], "account": ["zendesk:org:9"]})
    del body["account_id"], body["stakeholder_id"]
    event = EVENT_ADAPTER.validate_python(body)
    assert event_key(event) == "zendesk:org:9"


def test_server_assigned_event_id_is_stable_for_the_same_content() -> None:
    first = EVENT_ADAPTER.validate_python(create_survey())
    again = EVENT_ADAPTER.validate_python(create_survey())
    other = EVENT_ADAPTER.validate_python(create_survey(score=8))
    assert assign_event_id(first) == assign_event_id(again)
    assert assign_event_id(first) != assign_event_id(other)


def test_client_event_id_is_kept() -> None:
    event = EVENT_ADAPTER.validate_python(create_survey(event_id="resp-8812"))
    assert assign_event_id(event) == "resp-8812"
    assert isinstance(event, SurveyResponse)
    assert event.effective_scale.max == 10


def test_decision_maker_left_out_is_not_sent_and_false_is() -> None:
    # Left out: not changed (the record does not carry it); false is a value, kept on the wire.
    unset = EVENT_ADAPTER.validate_python(create_stakeholder(role="finance"))
    assert isinstance(unset, StakeholderEvent)
    assert unset.decision_maker is None
    assert b"decision_maker" not in encode_event(unset)
    flagged = EVENT_ADAPTER.validate_python(create_stakeholder(role="finance", decision_maker=False))
    assert b'"decision_maker":false' in encode_event(flagged)
    decoded = decode_event(encode_event(flagged))
    assert isinstance(decoded, StakeholderEvent)
    assert decoded.decision_maker is False
