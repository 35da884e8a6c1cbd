"""The subscriptions API through the app (lifespan included), with a real receiver on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from services.analyzer.app import create_app
from tests.analyzer.helpers import sessions_for
from tests.analyzer.webhooks.flows import alert_change, webhook_settings
from tests.analyzer.webhooks.receiver import running_receiver
from tests.factories import ANALYZER_KEY, auth
from tests.harness.waiting import wait_for_value

EVENTS = ["alert.opened", "alert.resolved"]


@asynccontextmanager
async def api(database_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The analyzer API (consume=False, dispatcher running) behind an ASGI client."""
    app = create_app(webhook_settings(database_url, **overrides), consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analyzer", headers=auth(ANALYZER_KEY)) as c:
            yield c


async def test_create_get_list_delete(database_url: str) -> None:
    async with api(database_url) as client:
        created = await client.post(
            "/v1/subscriptions", json={"url": "https://crm.example.com/h", "event_types": EVENTS}
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["secret"].startswith("whsec_")
        assert body["status"] == "active"
        sub_id = body["id"]
        listed = (await client.get("/v1/subscriptions")).json()
        assert [s["id"] for s in listed] == [sub_id]
        assert "secret" not in listed[0]
        one = await client.get(f"/v1/subscriptions/{sub_id}")
        assert one.status_code == 200
        assert "secret" not in one.json()
        assert (await client.delete(f"/v1/subscriptions/{sub_id}")).status_code == 204
        assert (await client.get(f"/v1/subscriptions/{sub_id}")).status_code == 404
        assert (await client.delete(f"/v1/subscriptions/{sub_id}")).status_code == 404


async def test_every_call_needs_the_api_key(sqlite_url: str) -> None:
    async with api(sqlite_url) as client:
        answer = await client.get("/v1/subscriptions", headers={"Authorization": "Bearer wrong"})
        assert answer.status_code == 401


# Literal spellings of forbidden addresses, refused at creation even in the strictest setting.
SSRF_URLS = [
    "http://127.0.0.1/h",
    "http://127.1/h",
    "http://2130706433/h",
    "http://0x7f000001/h",
    "http://0177.0.0.1/h",
    "http://0x7f.1/h",
    "http://[::1]/h",
    "http://[::ffff:127.0.0.1]/h",
    "http://[::ffff:7f00:1]/h",
    "http://10.0.0.1/h",
    "http://172.16.5.4/h",
    "http://192.168.1.1/h",
    "http://100.64.0.1/h",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/h",
    "http://[fe80::1]/h",
    "http://[fc00::1]/h",
    "http://224.0.0.1/h",
    "http://[ff02::1]/h",
    "http://0.0.0.0/h",
    "http://240.0.0.1/h",
    "http://255.255.255.255/h",
    "http://localhost/h",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[64:ff9b::a9fe:a9fe]/h",
    "http://[2002:7f00:1::]/h",
    "ftp://crm.example.com/h",
    "http://user:pw@crm.example.com/h",
    "file:///etc/passwd",
]


async def test_forbidden_targets_are_refused_at_creation(sqlite_url: str) -> None:
    async with api(sqlite_url, webhook_allow_private_targets=False) as client:
        for url in SSRF_URLS:
            answer = await client.post("/v1/subscriptions", json={"url": url, "event_types": EVENTS})
            assert answer.status_code == 422, url
            [error] = answer.json()["detail"]
            assert error["field"] == "url"
            assert error["message"].startswith("forbidden target: "), (url, error)
        assert (await client.get("/v1/subscriptions")).json() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0/",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
async def test_metadata_and_unspecified_stay_refused_when_private_targets_are_allowed(
    sqlite_url: str, url: str
) -> None:
    async with api(sqlite_url) as client:
        answer = await client.post("/v1/subscriptions", json={"url": url, "event_types": EVENTS})
        assert answer.status_code == 422


async def test_unknown_event_types_are_refused(sqlite_url: str) -> None:
    async with api(sqlite_url) as client:
        answer = await client.post("/v1/subscriptions", json={"url": "https://crm.example.com/", "event_types": ["x"]})
        assert answer.status_code == 422


async def test_deliveries_rotation_and_replay_through_the_api(database_url: str) -> None:
    async with (
        api(database_url, webhook_retry_schedule_s=[0.01]) as client,
        running_receiver((500, {}), (500, {}), (200, {})) as rx,
    ):
        created = (await client.post("/v1/subscriptions", json={"url": rx.url, "event_types": EVENTS})).json()
        sub_id = created["id"]
        async with sessions_for(database_url) as sessions:
            await alert_change(sessions)
        page = await wait_for_value(
            lambda: _deliveries(client, sub_id),
            lambda p: bool(p["deliveries"]) and p["deliveries"][0]["status"] == "failed",
            timeout_s=10,
        )
        [delivery] = page["deliveries"]
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 500]
        assert all(a["latency_ms"] is not None and a["error"] == "HTTP 500" for a in delivery["attempts"])

        rotated = await client.post(f"/v1/subscriptions/{sub_id}/rotate-secret", json={"overlap_seconds": 3600})
        assert rotated.status_code == 200
        new_secret = rotated.json()["secret"]
        assert new_secret != created["secret"]

        replay = await client.post(f"/v1/subscriptions/{sub_id}/deliveries/{delivery['id']}/replay")
        assert replay.status_code == 202
        await wait_for_value(
            lambda: _deliveries(client, sub_id), lambda p: p["deliveries"][0]["status"] == "delivered", timeout_s=10
        )
        last = rx.requests[-1]
        assert Webhook(created["secret"]).verify(last.body, last.headers) == Webhook(new_secret).verify(
            last.body, last.headers
        )
        assert {r.headers["webhook-id"] for r in rx.requests} == {delivery["webhook_id"]}
        replay_all = await client.post(f"/v1/subscriptions/{sub_id}/replay-failed")
        assert replay_all.json() == {"replayed": 0}


async def test_a_disabled_subscription_says_why_and_can_be_enabled(sqlite_url: str) -> None:
    async with api(sqlite_url) as client, running_receiver((410, {}), (200, {})) as rx:
        sub_id = (await client.post("/v1/subscriptions", json={"url": rx.url, "event_types": EVENTS})).json()["id"]
        async with sessions_for(sqlite_url) as sessions:
            await alert_change(sessions)
        disabled = await wait_for_value(
            lambda: _get(client, f"/v1/subscriptions/{sub_id}"), lambda s: s["status"] == "disabled", timeout_s=10
        )
        assert "410" in disabled["disabled_reason"]
        assert (await client.post(f"/v1/subscriptions/{sub_id}/replay-failed")).status_code == 409
        assert (await client.post(f"/v1/subscriptions/{sub_id}/enable")).json()["status"] == "active"
        assert (await client.post(f"/v1/subscriptions/{sub_id}/replay-failed")).json() == {"replayed": 1}
        await wait_for_value(
            lambda: _deliveries(client, sub_id), lambda p: p["deliveries"][0]["status"] == "delivered", timeout_s=10
        )


async def _deliveries(client: httpx.AsyncClient, sub_id: str) -> dict[str, Any]:
    return await _get(client, f"/v1/subscriptions/{sub_id}/deliveries")


async def _get(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    answer = await client.get(path)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body
