"""``POST /v1/events`` and ``/v1/events/batch`` against the real Kafka broker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from deploy.kafka.broker import free_port
from services.ingest.app import create_app
from shared.settings import Topics
from tests.factories import INGEST_KEY, auth, create_ingest_settings, create_stakeholder, create_survey
from tests.harness.kafka import count_records, read_all


@asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            yield client


@pytest.fixture
async def client(kafka_bootstrap: str, topics: Topics) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(create_ingest_settings(kafka_bootstrap, topics))) as c:
        yield c


async def test_single_event_is_in_kafka_when_202_returns(
    client: httpx.AsyncClient,
    kafka_bootstrap: str,
    topics: Topics,
) -> None:
    response = await client.post("/v1/events", json=create_survey(event_id="resp-1"), headers=auth(INGEST_KEY))
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1, "event_ids": ["resp-1"], "event_id": "resp-1"}
    [record] = await read_all(kafka_bootstrap, topics.events, expect=1)
    assert record["key"] == "acme"
    assert record["value"]["event_id"] == "resp-1"
    assert record["value"]["score"] == 9
    assert record["headers"]["schema"] == "feedback.event.v1"


async def test_batch_assigns_ids_and_keys_by_account(
    client: httpx.AsyncClient,
    kafka_bootstrap: str,
    topics: Topics,
) -> None:
    events = [create_survey(account_id=f"acct-{i % 3}", stakeholder_id=f"p{i}") for i in range(9)]
    response = await client.post("/v1/events/batch", json={"events": events}, headers=auth(INGEST_KEY))
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["accepted"] == 9
    assert len(set(body["event_ids"])) == 9
    records = await read_all(kafka_bootstrap, topics.events, expect=9)
    assert {r["value"]["event_id"] for r in records} == set(body["event_ids"])
    partitions: dict[str, set[int]] = {}
    for r in records:
        partitions.setdefault(r["key"], set()).add(r["partition"])
    assert all(len(p) == 1 for p in partitions.values()), "one account's events share one partition"


async def test_invalid_batch_names_index_and_field_and_publishes_nothing(
    client: httpx.AsyncClient,
    kafka_bootstrap: str,
    topics: Topics,
) -> None:
    events: list[dict[str, Any]] = [create_survey(), create_survey(score=42), create_stakeholder(role="ceo")]
    response = await client.post("/v1/events/batch", json={"events": events}, headers=auth(INGEST_KEY))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert {(e["index"], e["field"]) for e in body["detail"]} == {(1, "score"), (2, "role")}
    assert await count_records(kafka_bootstrap, topics.events) == 0


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", ""),
        (b'{"events": "nope"}', "events"),
        (b'{"events": []}', "events"),
        (b"[]", "events"),
    ],
)
async def test_malformed_batches_get_422(client: httpx.AsyncClient, content: bytes, field: str) -> None:
    response = await client.post("/v1/events/batch", content=content, headers=auth(INGEST_KEY))
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field


async def test_batch_over_the_event_limit_is_refused(kafka_bootstrap: str, topics: Topics) -> None:
    app = create_app(create_ingest_settings(kafka_bootstrap, topics, ingest_max_batch_events=3))
    async with client_for(app) as client:
        events = [create_survey(stakeholder_id=f"p{i}") for i in range(4)]
        response = await client.post("/v1/events/batch", json={"events": events}, headers=auth(INGEST_KEY))
        assert response.status_code == 422
        assert "at most 3 events" in response.json()["detail"][0]["message"]


@pytest.mark.parametrize("headers", [{}, auth("wrong"), {"Authorization": INGEST_KEY}])
async def test_wrong_or_missing_key_is_401(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await client.post("/v1/events", json=create_survey(), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_oversized_body_is_413_before_parsing(kafka_bootstrap: str, topics: Topics) -> None:
    app = create_app(create_ingest_settings(kafka_bootstrap, topics, ingest_max_body_bytes=2048))
    async with client_for(app) as client:
        big = create_survey(comment="x" * 4000)
        response = await client.post("/v1/events", json=big, headers=auth(INGEST_KEY))
        assert response.status_code == 413
        assert response.json()["error"] == "payload_too_large"

        async def chunks() -> AsyncIterator[bytes]:
            # No Content-Length: the limit is enforced while the body streams in.
            yield json.dumps(big).encode()[:1500]
            yield json.dumps(big).encode()[1500:]

        response = await client.post("/v1/events", content=chunks(), headers=auth(INGEST_KEY))
        assert response.status_code == 413


async def test_rate_limit_answers_429_with_retry_after(kafka_bootstrap: str, topics: Topics) -> None:
    settings = create_ingest_settings(kafka_bootstrap, topics, ingest_rate_limit_per_s=0.01, ingest_rate_limit_burst=2)
    async with client_for(create_app(settings)) as client:
        statuses = [
            (await client.post("/v1/events", json=create_survey(stakeholder_id=f"p{i}"), headers=auth(INGEST_KEY)))
            for i in range(3)
        ]
        assert [r.status_code for r in statuses] == [202, 202, 429]
        assert int(statuses[-1].headers["retry-after"]) >= 1


async def test_kafka_unreachable_is_503_with_retry_after(topics: Topics) -> None:
    dead = f"127.0.0.1:{free_port()}"
    settings = create_ingest_settings(dead, topics, ingest_publish_timeout_s=1.0)
    async with client_for(create_app(settings)) as client:
        response = await client.post("/v1/events", json=create_survey(), headers=auth(INGEST_KEY))
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["detail"]["checks"] == {"kafka": False}


async def test_health_metrics_and_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200
    await client.post("/v1/events", json=create_survey(), headers=auth(INGEST_KEY))
    metrics = (await client.get("/metrics")).text
    assert 'http_requests_total{method="POST",route="/v1/events",service="ingest",status="202"} 1.0' in metrics
    spec = (await client.get("/openapi.json")).json()
    assert "SurveyResponse" in spec["components"]["schemas"]
    assert (await client.get("/docs")).status_code == 200
