"""The fast path of ingest's body validation decides exactly as the careful path would.

``read_events`` validates the common body straight from bytes and hands everything else to the
careful path (bounded JSON decoding, then per-item validation). Whatever the body, the result must
be the careful path's: the same events, or a 422 with the same errors in the same order.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ingest.service import batch_items, parse_json, read_events, validate_events
from shared.errors import InvalidRequest
from shared.event_time import TimePolicy
from shared.events import SurveyResponse, assign_event_id, encode_event
from tests.factories import create_account, create_moment, create_stakeholder, create_survey

POLICY = TimePolicy(datetime(2000, 1, 1, tzinfo=UTC), timedelta(days=1))
MAX_BATCH = 5


def careful(body: bytes, *, batch: bool) -> Any:
    """The reference: what the careful path alone answers (events as JSON, or the error list)."""
    try:
        payload = parse_json(body)
        items = batch_items(payload, max_events=MAX_BATCH) if batch else [payload]
        return [e.model_dump(mode="json") for e in validate_events(items, policy=POLICY)]
    except InvalidRequest as exc:
        return exc.detail


def answered(body: bytes, *, batch: bool) -> Any:
    try:
        events = read_events(body, policy=POLICY, max_batch=MAX_BATCH if batch else None)
        return [e.model_dump(mode="json") for e in events]
    except InvalidRequest as exc:
        return exc.detail


BODIES: list[Any] = [
    create_survey(),
    create_survey(metric="rating", score=3.5, scale={"min": 1, "max": 10, "higher_is_better": False}),
    create_survey(score=11),
    create_survey(score="7"),
    create_survey(score=True),
    create_survey(occurred_at="2026-05-01"),
    create_survey(occurred_at="1999-12-31T23:59:59Z"),
    create_survey(occurred_at="9999-12-31T23:59:59-23:59"),
    create_survey(account_id="a/b"),
    create_survey(unknown="field"),
    create_moment(),
    create_moment(attributes={"deep": [[[[1]]]], "n": 1.5}),
    create_account(annual_value=10**45),
    create_account(renewal_date="0001-01-01"),
    create_stakeholder(influence=0),
    {"type": "nope"},
    {},
    [],
    "text",
    7,
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_single_bodies_are_decided_as_the_careful_path_decides(body: Any) -> None:
    raw = json.dumps(body).encode()
    assert answered(raw, batch=False) == careful(raw, batch=False)


RAW_BODIES = [
    b'{"type":"survey_response","score":1' + b"0" * 400 + b"}",
    b'{"type":"survey_response","account_id":"a","stakeholder_id":"s","metric":"nps","score":7.'
    + b"0" * 50
    + b',"occurred_at":"2026-05-01T10:00:00Z"}',
    b"[" * 10_000 + b"]" * 10_000,
    b'{"score": NaN}',
    b"\xff\xfe",
    b"",
    b'{"events": []}',
    b'{"events": {}}',
    json.dumps({"events": [create_survey(stakeholder_id=f"p{i}") for i in range(MAX_BATCH + 1)]}).encode(),
    json.dumps({"events": [create_survey(), create_survey(score=12), create_moment(attributes={"a": 1})]}).encode(),
    json.dumps({"events": [create_survey(occurred_at="1999-01-01T00:00:00Z"), create_survey()], "extra": 1}).encode(),
]


@pytest.mark.parametrize("raw", RAW_BODIES, ids=range(len(RAW_BODIES)))
@pytest.mark.parametrize("batch", [False, True], ids=["single", "batch"])
def test_raw_bodies_are_decided_as_the_careful_path_decides(raw: bytes, batch: bool) -> None:
    assert answered(raw, batch=batch) == careful(raw, batch=batch)


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**50), 10**50),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["2026-05-01T10:00:00Z", "2026-05-01T10:00:00+02:00", "nps", "csat", "it", "client", "a/b"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_events = st.sampled_from(
    [create_survey(), create_moment(), create_account(name="A"), create_stakeholder(role="it")]
).flatmap(
    lambda base: st.dictionaries(st.sampled_from([*base, "scale", "identities", "extra"]), _values, max_size=3).map(
        lambda changes: {**base, **changes}
    )
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=st.lists(_events, min_size=1, max_size=MAX_BATCH + 1))
def test_any_batch_is_decided_as_the_careful_path_decides(events: list[dict[str, Any]]) -> None:
    raw = json.dumps({"events": events}).encode()
    assert answered(raw, batch=True) == careful(raw, batch=True)
    single = json.dumps(events[0]).encode()
    assert answered(single, batch=False) == careful(single, batch=False)


@pytest.mark.parametrize(
    "body",
    [create_survey(), create_moment(attributes={"x": [1, {"y": None}]}), create_account(aliases=["a"])],
)
def test_one_encoding_gives_the_id_and_the_record_of_two(body: dict[str, Any]) -> None:
    body = {k: v for k, v in body.items() if k != "event_id"}
    once = read_events(json.dumps(body).encode(), policy=POLICY)[0]
    twice = read_events(json.dumps(body).encode(), policy=POLICY)[0]
    record = encode_event(once)
    assert once.event_id is not None
    assert assign_event_id(twice) == once.event_id
    assert record == twice.model_dump_json(exclude_none=True).encode()


def test_a_given_event_id_is_kept() -> None:
    event = SurveyResponse.model_validate(create_survey(event_id="resp-1"))
    assert json.loads(encode_event(event))["event_id"] == "resp-1"
