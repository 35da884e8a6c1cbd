"""Scoped analyzer keys over HTTP: 401 for a stranger, 403 for a key without the scope, the key's id on every change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.analyzer.app import create_app
from services.analyzer.db.change_models import ChangeRecord
from services.analyzer.db.models import AlertRow
from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.test_api import split_account
from tests.factories import ANALYZER_KEY, auth, create_analyzer_settings
from tests.harness.kafka import unique_topics

ENTRIES = [
    "reader:reader-secret:read",
    "writer:writer-secret:read+alerts:write",
    "hooks:hooks-secret:subscriptions:admin",
    "dash:dash-secret:dashboard",
    ANALYZER_KEY,  # a plain key: every scope (deprecated)
    "eraser:eraser-secret:people:erase",
]
SECRETS = {
    "reader": "reader-secret",
    "writer": "writer-secret",
    "hooks": "hooks-secret",
    "dash": "dash-secret",
    "eraser": "eraser-secret",
}

# Every route of the JSON API and the scope it needs.
ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("read", "GET", "/v1/accounts", None),
    ("read", "GET", "/v1/accounts/acme", None),
    ("read", "GET", "/v1/accounts/acme/history", None),
    ("read", "GET", "/v1/accounts/acme/verbatims", None),
    ("read", "GET", "/v1/alerts", None),
    ("read", "GET", "/v1/backtest", None),
    ("alerts:write", "POST", "/v1/alerts/al_x/acknowledge", {"by": "Ann"}),
    ("alerts:write", "POST", "/v1/alerts/al_x/resolve", {"by": "Ann"}),
    ("alerts:write", "POST", "/v1/alerts/al_x/plan", {"owner": "Ann"}),
    ("read", "GET", "/v1/plans", None),
    ("read", "GET", "/v1/loop", None),
    ("read", "GET", "/v1/accounts/acme/loop", None),
    ("read", "GET", "/v1/plans/plan_x", None),
    ("alerts:write", "PATCH", "/v1/plans/plan_x", {"status": "done"}),
    ("alerts:write", "POST", "/v1/plans/plan_x/notes", {"text": "called"}),
    ("subscriptions:admin", "GET", "/v1/subscriptions", None),
    (
        "subscriptions:admin",
        "POST",
        "/v1/subscriptions",
        {"url": "https://example.com/h", "event_types": ["alert.opened"]},
    ),
    ("subscriptions:admin", "GET", "/v1/subscriptions/sub_x", None),
    ("subscriptions:admin", "DELETE", "/v1/subscriptions/sub_x", None),
    ("subscriptions:admin", "POST", "/v1/subscriptions/sub_x/rotate-secret", None),
    ("subscriptions:admin", "POST", "/v1/subscriptions/sub_x/enable", None),
    ("subscriptions:admin", "GET", "/v1/subscriptions/sub_x/deliveries", None),
    ("subscriptions:admin", "POST", "/v1/subscriptions/sub_x/deliveries/1/replay", None),
    ("subscriptions:admin", "POST", "/v1/subscriptions/sub_x/replay-failed", None),
    ("people:erase", "DELETE", "/v1/stakeholders/nobody@example.com", None),
]
HOLDERS = {
    "read": {"reader", "writer"},
    "alerts:write": {"writer"},
    "subscriptions:admin": {"hooks"},
    "people:erase": {"eraser"},
}


@asynccontextmanager
async def api(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = create_analyzer_settings("127.0.0.1:1", unique_topics(), database_url, analyzer_api_keys=ENTRIES)
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analyzer") as client:
            yield client


async def call(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None, key: str
) -> httpx.Response:
    return await client.request(method, path, json=body, headers=auth(key))


@pytest.mark.parametrize(("scope", "method", "path", "body"), ROUTES, ids=[f"{m} {p}" for _, m, p, _ in ROUTES])
async def test_each_route_answers_403_to_a_key_without_its_scope_and_401_to_a_stranger(
    sqlite_url: str, scope: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    async with api(sqlite_url) as client:
        stranger = await call(client, method, path, body, "not-a-key")
        assert stranger.status_code == 401
        assert stranger.headers["www-authenticate"] == "Bearer"
        missing = await client.request(method, path, json=body)
        assert missing.status_code == 401
        for key_id, secret in SECRETS.items():
            answer = await call(client, method, path, body, secret)
            if key_id in HOLDERS[scope]:
                assert answer.status_code not in (401, 403), (key_id, answer.text)
            else:
                assert answer.status_code == 403, (key_id, answer.text)
                assert answer.json() == {
                    "error": "forbidden",
                    "detail": f"the API key {key_id!r} lacks the {scope!r} scope this call needs",
                }
        plain = await call(client, method, path, body, ANALYZER_KEY)
        assert plain.status_code not in (401, 403), plain.text


async def test_openapi_documents_the_403_of_every_route() -> None:
    app = create_app(create_analyzer_settings("127.0.0.1:1", unique_topics(), "sqlite+aiosqlite://"), consume=False)
    paths = app.openapi()["paths"]
    for _, method, path, _ in ROUTES:
        template = path.replace("acme", "{account_id}").replace("al_x", "{alert_id}")
        template = template.replace("sub_x", "{subscription_id}").replace("/1/", "/{delivery_id}/")
        template = template.replace("plan_x", "{plan_id}")
        template = template.replace("nobody@example.com", "{stakeholder_id}")
        assert "403" in paths[template][method.lower()]["responses"], (method, template)


async def changes(database_url: str) -> list[tuple[str, str, str]]:
    async with sessions_for(database_url) as sessions, sessions() as session:
        rows = (await session.scalars(select(ChangeRecord).order_by(ChangeRecord.id))).all()
        return [(r.key_id, r.action, r.target) for r in rows]


async def test_every_change_records_the_calling_keys_id_and_never_the_key(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split_account("acme", procurement=10, it=0))
        await apply_all(sessions, split_account("beta", procurement=10, it=0))
    async with api(database_url) as client:
        alerts = (await client.get("/v1/alerts", headers=auth("reader-secret"))).json()
        first, second = alerts[0]["alert_id"], alerts[1]["alert_id"]
        acked = await call(client, "POST", f"/v1/alerts/{first}/acknowledge", {}, "writer-secret")
        assert acked.status_code == 200, acked.text
        assert acked.json()["acknowledged"]["by"] == "writer"  # no name given: the key's id stands in
        resolved = await call(client, "POST", f"/v1/alerts/{second}/resolve", {"by": "Ann"}, ANALYZER_KEY)
        assert resolved.json()["resolved"]["by"] == "Ann"
        body = {"url": "https://example.com/hook", "event_types": ["alert.opened"]}
        created = await call(client, "POST", "/v1/subscriptions", body, "hooks-secret")
        assert created.status_code == 201, created.text
        sub = created.json()["id"]
        assert (await call(client, "POST", f"/v1/subscriptions/{sub}/rotate-secret", None, "hooks-secret")).is_success
        assert (await call(client, "POST", f"/v1/subscriptions/{sub}/enable", None, "hooks-secret")).is_success
        assert (await call(client, "POST", f"/v1/subscriptions/{sub}/replay-failed", None, "hooks-secret")).is_success
        assert (await call(client, "DELETE", f"/v1/subscriptions/{sub}", None, "hooks-secret")).status_code == 204
        refused = await call(client, "POST", f"/v1/alerts/{first}/resolve", {}, "reader-secret")
        assert refused.status_code == 403
    assert await changes(database_url) == [
        ("writer", "alert.acknowledge", first),
        ("key-5", "alert.resolve", second),
        ("hooks", "subscription.create", sub),
        ("hooks", "subscription.rotate_secret", sub),
        ("hooks", "subscription.enable", sub),
        ("hooks", "subscription.replay_failed", sub),
        ("hooks", "subscription.delete", sub),
    ]
    async with sessions_for(database_url) as sessions, sessions() as session:
        stored = [repr(row.__dict__) for row in (await session.scalars(select(AlertRow))).all()]
    assert not any(secret in text for text in stored for secret in [*SECRETS.values(), ANALYZER_KEY])


async def test_a_change_that_fails_records_nothing(sqlite_url: str) -> None:
    async with api(sqlite_url) as client:
        answer = await call(client, "POST", "/v1/subscriptions/sub_nope/rotate-secret", None, "hooks-secret")
        assert answer.status_code == 404
        answer = await call(client, "POST", "/v1/alerts/al_nope/acknowledge", {"by": "Ann"}, "writer-secret")
        assert answer.status_code == 404
    assert await changes(sqlite_url) == []
