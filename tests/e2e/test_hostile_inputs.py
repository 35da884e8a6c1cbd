"""Inputs that once answered 500 or stopped the analyzer, against the live processes.

Each answers 4xx in the one error shape, or is dead-lettered with its reason while the analyzer
keeps consuming.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.kafka import DurablePublisher, Record
from shared.settings import Topics
from tests.e2e.test_pipeline import account, analyzer_process, service_env
from tests.factories import ANALYZER_KEY, INGEST_KEY, auth, create_analyzer_settings, create_survey
from tests.harness.kafka import read_all
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value
from tests.ingest.vendors.payloads import SECRET, create_zendesk_payload, zendesk_headers
from tests.ingest.vendors.payloads import encode as vendor_body

pytestmark = pytest.mark.e2e

EXTREME_TIMES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "0001-01-01T00:00:00Z"]


@pytest.fixture
def ingest(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[ServiceProcess]:
    env = service_env(kafka_bootstrap, topics, WEBHOOK_SECRET_ZENDESK=SECRET)
    process = ServiceProcess("services.ingest", env, tmp_path / "ingest.log")
    process.start()
    yield process
    process.stop()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def bad_bodies() -> dict[str, tuple[str, str]]:
    """Name -> (raw JSON body, the field the 422 must name)."""
    soon = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    survey = create_survey()
    cases = {f"time {t}": (json.dumps({**survey, "occurred_at": t}), "occurred_at") for t in EXTREME_TIMES}
    cases["before 2000"] = (json.dumps({**survey, "occurred_at": "1999-12-31T23:59:59Z"}), "occurred_at")
    cases["two days ahead"] = (json.dumps({**survey, "occurred_at": soon}), "occurred_at")
    cases["10,000 deep"] = (nested(10_000), "")
    cases["score 1e400 as an integer"] = (json.dumps(survey).replace('"score": 9', '"score": 1' + "0" * 400), "")
    cases["5000-digit score"] = (json.dumps(survey).replace('"score": 9', '"score": ' + "9" * 5000), "")
    moment = {
        "type": "journey_moment",
        "account_id": "acme",
        "moment": "qbr",
        "occurred_at": "2026-05-01T10:00:00Z",
    }
    cases["attributes 900 deep"] = (json.dumps(moment)[:-1] + ', "attributes": {"a": ' + nested(900) + "}}", "")
    cases["account id with a slash"] = (json.dumps({**survey, "account_id": "a/b"}), "account_id")
    return cases


async def test_hostile_bodies_get_a_specific_4xx_from_ingest(ingest: ServiceProcess) -> None:
    async with httpx.AsyncClient(base_url=ingest.url, headers=auth(INGEST_KEY), timeout=30) as client:
        for name, (body, field) in bad_bodies().items():
            for path, content in (("/v1/events", body), ("/v1/events/batch", f'{{"events": [{body}]}}')):
                answer = await client.post(path, content=content, headers={"content-type": "application/json"})
                assert answer.status_code == 422, (name, path, answer.status_code, answer.text[:300])
                assert answer.headers["content-type"] == "application/json", name
                error = answer.json()
                assert error["error"] == "validation_error", name
                if field:
                    assert any(d["field"] == field for d in error["detail"]), (name, error)


async def test_a_batch_names_the_index_of_the_event_outside_the_time_window(ingest: ServiceProcess) -> None:
    events = [create_survey(), create_survey(stakeholder_id="bob", occurred_at="1970-01-01T00:00:00Z")]
    async with httpx.AsyncClient(base_url=ingest.url, headers=auth(INGEST_KEY)) as client:
        answer = await client.post("/v1/events/batch", json={"events": events})
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert (error["index"], error["field"], error["type"]) == (1, "occurred_at", "time_out_of_window")
    assert "before the earliest accepted 2000-01-01" in error["message"]


@pytest.mark.parametrize("updated_at", [*EXTREME_TIMES, "1990-05-01T10:00:00Z"])
async def test_a_signed_vendor_webhook_with_an_impossible_time_is_a_422(
    ingest: ServiceProcess, updated_at: str
) -> None:
    body = vendor_body(create_zendesk_payload(updated_at=updated_at))
    headers = zendesk_headers(body, timestamp=datetime.now(UTC).isoformat(timespec="seconds"))
    async with httpx.AsyncClient(base_url=ingest.url) as client:
        answer = await client.post("/v1/webhooks/zendesk", content=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "validation_error"
    message = json.dumps(answer.json()["detail"])
    assert "ticket.updated_at" in message or "occurred_at" in message, message


def raw_survey(event_id: str, occurred_at: str, **extra: Any) -> bytes:
    return json.dumps(create_survey(event_id=event_id, occurred_at=occurred_at, **extra)).encode()


async def test_records_that_bypass_ingest_are_dead_lettered_and_the_analyzer_keeps_consuming(
    kafka_bootstrap: str,
    topics: Topics,
    database_url: str,
    tmp_path: Path,
) -> None:
    poison = [
        raw_survey("far-future", "9999-12-31T23:59:59-23:59"),
        raw_survey("year-one", "0001-01-01T00:00:00Z"),
        raw_survey("before-window", "1990-01-01T00:00:00Z"),
        raw_survey("next-schema", "2026-05-01T10:00:00Z", schema_version=2),
        b"\x00\xff not an event",
    ]
    good = [
        raw_survey("old-but-fine", "2000-01-03T00:00:00Z"),
        raw_survey("recent", "2026-05-01T10:00:00Z", stakeholder_id="bob@acme.example"),
    ]
    kafka = DurablePublisher(create_analyzer_settings(kafka_bootstrap, topics, "sqlite://"), client_id="raw-writer")
    try:
        await kafka.publish([Record(topics.events, "acme", v) for v in [*poison, *good]], timeout_s=30)
    finally:
        await kafka.close()
    analyzer = analyzer_process(
        kafka_bootstrap, topics, database_url, tmp_path, "analyzer", WEBHOOK_ALLOW_PRIVATE_TARGETS="true"
    )
    analyzer.start()
    try:
        await wait_for_value(
            lambda: account(analyzer, "acme"),
            lambda v: v is not None and len(v["stakeholders"]) == 2,
            timeout_s=60,
            what="the two good events applied after the poison",
        )
        letters = await read_all(kafka_bootstrap, topics.dlq, expect=len(poison))
        reasons = {_letter_id(letter["value"]): letter["value"]["reason"] for letter in letters}
        assert set(reasons) == {"far-future", "year-one", "before-window", "next-schema", "bytes"}, reasons
        assert "out of range" in reasons["far-future"]
        assert "between 1900 and 2999" in reasons["year-one"]
        assert "before the earliest accepted" in reasons["before-window"]
        assert "schema_version" in reasons["next-schema"]

        async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY), timeout=30) as client:
            await _analyzer_api_refuses_what_it_cannot_answer(client)
        assert analyzer.process is not None
        assert analyzer.process.poll() is None, "the analyzer is still running"
    finally:
        analyzer.stop()


def _letter_id(letter: dict[str, Any]) -> str:
    """The event id inside a dead letter's payload, or "bytes" for one that is not JSON."""
    try:
        return str(json.loads(letter["payload"]["text"])["event_id"])
    except (KeyError, ValueError):
        return "bytes"


async def _analyzer_api_refuses_what_it_cannot_answer(client: httpx.AsyncClient) -> None:
    for path in ("/v1/accounts", "/v1/alerts"):
        answer = await client.get(path, params={"offset": "9223372036854775808"})
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["error"] == "validation_error"
    # 2000 to 2026 in days or weeks is more than one request may return; in months it is not.
    for bucket in ("day", "week"):
        answer = await client.get("/v1/accounts/acme/history", params={"bucket": bucket})
        assert answer.status_code == 422, answer.text
        assert "at most 1000" in answer.json()["detail"][0]["message"]
    months = await client.get("/v1/accounts/acme/history", params={"bucket": "month"})
    assert months.status_code == 200, months.text
    assert months.json()[0]["bucket_start"] == "2000-01-01"
    narrowed = await client.get("/v1/accounts/acme/history", params={"bucket": "day", "since": "2026-04-01"})
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()[0]["bucket_start"] == "2026-04-01"
    missing = await client.get("/v1/accounts/a%2Fb")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    metadata = await client.post(
        "/v1/subscriptions",
        json={"url": "http://metadata.google.internal/computeMetadata/v1/", "event_types": ["alert.opened"]},
    )
    assert metadata.status_code == 422, metadata.text


async def test_a_client_gone_before_its_body_arrived_is_no_error(ingest: ServiceProcess) -> None:
    # A body announced at 1000 bytes, 10 sent, then the connection closed: the way a load balancer's
    # timeout or a load generator's stop looks to the server.
    with socket.create_connection(("127.0.0.1", ingest.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {INGEST_KEY}\r\nContent-Length: 1000\r\n\r\n".encode()
            + b'{"type": "'
        )
    pattern = re.compile(r'http_requests_total\{method="POST",route="/v1/events",service="ingest",status="499"\} 1\.0')

    async def scrape() -> str:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"{ingest.url}/metrics")).text

    await wait_for_value(scrape, lambda text: pattern.search(text) is not None, what="a 499 in the metrics")
    log = ingest.log_path.read_text()
    assert "unhandled error" not in log
    assert "Exception in ASGI application" not in log
