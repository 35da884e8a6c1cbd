"""``POST /v1/webhooks/{source}`` against the real broker: signatures, mapping, acknowledgement rules."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.ingest.app import create_app
from shared.settings import Topics
from shared.survey_links import mint
from tests.factories import SURVEY_LINK_SECRET, create_ingest_settings
from tests.harness.kafka import count_records, read_all
from tests.ingest.test_events_api import client_for
from tests.ingest.vendors import payloads as p

SIGNED_EXAMPLES: dict[str, Callable[[], tuple[bytes, dict[str, str]]]] = {}


def _zendesk(**kw: str) -> tuple[bytes, dict[str, str]]:
    body = p.encode(p.create_zendesk_payload(**kw))
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body, p.zendesk_headers(body, timestamp=now)


def _intercom() -> tuple[bytes, dict[str, str]]:
    body = p.encode(p.create_intercom_payload())
    return body, p.intercom_headers(body)


def link_token(account_id: str, person: str) -> str:
    """A link token the test services' SURVEY_LINK_SECRET (tests/factories.py) verifies, valid for a day."""
    return mint(SURVEY_LINK_SECRET, account_id, person, datetime.now(UTC) + timedelta(days=1))


def _typeform() -> tuple[bytes, dict[str, str]]:
    # The survey link carries a token for its ids, so the answer is attributed (a signed link).
    hidden = {"account_id": "acme", "stakeholder_id": "jane", "link_token": link_token("acme", "jane")}
    body = p.encode(p.create_typeform_payload(hidden=hidden))
    return body, p.typeform_headers(body)


def _delighted() -> tuple[bytes, dict[str, str]]:
    properties = {"Account ID": "acme", "Plan": "Enterprise", "Link Token": link_token("acme", "jane.doe@acme.example")}
    body = p.encode(p.create_delighted_payload(person_properties=properties))
    return body, p.delighted_headers(body)


def _freshdesk() -> tuple[bytes, dict[str, str]]:
    return p.encode(p.create_freshdesk_payload()), p.freshdesk_headers()


SIGNED_EXAMPLES.update(
    zendesk=_zendesk,
    intercom=_intercom,
    typeform=_typeform,
    delighted=_delighted,
    freshdesk=_freshdesk,
)
SECRETS = {f"webhook_secret_{source}": p.SECRET for source in SIGNED_EXAMPLES}


@pytest.fixture
async def client(kafka_bootstrap: str, topics: Topics) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(create_app(create_ingest_settings(kafka_bootstrap, topics, **SECRETS))) as c:
        yield c


@pytest.mark.parametrize("source", sorted(SIGNED_EXAMPLES))
async def test_signed_delivery_is_published_and_a_retry_maps_to_the_same_event(
    client: httpx.AsyncClient,
    kafka_bootstrap: str,
    topics: Topics,
    source: str,
) -> None:
    body, headers = SIGNED_EXAMPLES[source]()
    first = await client.post(f"/v1/webhooks/{source}", content=body, headers=headers)
    assert first.status_code == 202, first.text
    retry = await client.post(f"/v1/webhooks/{source}", content=body, headers=headers)
    assert retry.json()["event_ids"] == first.json()["event_ids"]
    records = await read_all(kafka_bootstrap, topics.events, expect=2 * first.json()["accepted"])
    assert {r["value"]["event_id"] for r in records} == set(first.json()["event_ids"])
    assert all(r["value"]["source"] == source for r in records)
    assert all(r["headers"]["source"] == source for r in records)


@pytest.mark.parametrize("source", sorted(SIGNED_EXAMPLES))
async def test_bad_signature_is_401_and_publishes_nothing(
    client: httpx.AsyncClient,
    kafka_bootstrap: str,
    topics: Topics,
    source: str,
) -> None:
    body, headers = SIGNED_EXAMPLES[source]()
    tampered = body.replace(b"acme", b"evil") if b"acme" in body else body + b" "
    if source == "freshdesk":  # Freshdesk signs nothing: only its bearer secret authenticates
        headers = p.freshdesk_headers(secret=p.OTHER_SECRET)
    response = await client.post(f"/v1/webhooks/{source}", content=tampered, headers=headers)
    assert response.status_code == 401
    assert await count_records(kafka_bootstrap, topics.events) == 0


async def test_stale_zendesk_timestamp_is_401(client: httpx.AsyncClient) -> None:
    body = p.encode(p.create_zendesk_payload())
    headers = p.zendesk_headers(body, timestamp="2026-01-01T00:00:00Z")
    assert (await client.post("/v1/webhooks/zendesk", content=body, headers=headers)).status_code == 401


async def test_unconfigured_and_unknown_sources_are_404(kafka_bootstrap: str, topics: Topics) -> None:
    settings = create_ingest_settings(kafka_bootstrap, topics, webhook_secret_intercom=p.SECRET)
    async with client_for(create_app(settings)) as client:
        body, headers = _zendesk()
        assert (await client.post("/v1/webhooks/zendesk", content=body, headers=headers)).status_code == 404
        assert (await client.post("/v1/webhooks/hubspot", content=body, headers=headers)).status_code == 404
        body, headers = _intercom()
        assert (await client.post("/v1/webhooks/intercom", content=body, headers=headers)).status_code == 202


async def test_delivery_without_a_usable_score_is_acknowledged_counted_and_not_published(
    client: httpx.AsyncClient,
    kafka_bootstrap: str,
    topics: Topics,
) -> None:
    body, headers = _zendesk(rating="unoffered")
    response = await client.post("/v1/webhooks/zendesk", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json()["accepted"] == 0
    assert response.json()["ignored_reason"]
    metrics = (await client.get("/metrics")).text
    assert 'ingest_vendor_deliveries_total{outcome="no_score",source="zendesk"} 1.0' in metrics
    assert await count_records(kafka_bootstrap, topics.events) == 0


async def test_signed_but_malformed_payload_is_422_not_500(client: httpx.AsyncClient) -> None:
    body = b'{"ticket": "not an object"}'
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = await client.post("/v1/webhooks/zendesk", content=body, headers=p.zendesk_headers(body, timestamp=now))
    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"
