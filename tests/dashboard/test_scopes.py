"""The dashboard and key scopes: sign-in needs `dashboard`, alert forms `alerts:write`; changes name the key."""

from __future__ import annotations

import html

from sqlalchemy import select

from services.analyzer.dashboard.session import COOKIE_NAME
from services.analyzer.db.change_models import ChangeRecord
from tests.analyzer.helpers import apply_all, sessions_for
from tests.dashboard.test_http import dashboard, divided, hidden, sign_in
from tests.factories import ANALYZER_KEY, auth

VIEWER = "viewer:viewer-secret:dashboard"
OPERATOR = "operator:operator-secret:dashboard+alerts:write"
READER = "reader:reader-secret:read+alerts:write"
KEYS = [VIEWER, OPERATOR, READER, ANALYZER_KEY]


async def test_a_valid_key_without_the_dashboard_scope_opens_no_session(sqlite_url: str) -> None:
    async with dashboard(sqlite_url, analyzer_api_keys=KEYS) as client:
        refused = await sign_in(client, key="reader-secret")
        assert refused.status_code == 403
        assert "lacks the 'dashboard' scope" in html.unescape(refused.text), "however the quotes are escaped"
        assert COOKIE_NAME not in client.cookies
        assert (await client.get("/dashboard")).status_code == 303
        assert (await sign_in(client, key="viewer-secret")).status_code == 303
        assert (await client.get("/dashboard")).status_code == 200


async def test_taking_the_dashboard_scope_away_ends_the_sessions_of_that_key(sqlite_url: str) -> None:
    secret = "x" * 40
    async with dashboard(sqlite_url, dashboard_session_secret=secret, analyzer_api_keys=KEYS) as client:
        await sign_in(client, key="viewer-secret")
        cookie = {"Cookie": f"{COOKIE_NAME}={client.cookies[COOKIE_NAME]}"}
        assert (await client.get("/dashboard", headers=cookie)).status_code == 200
    narrowed = ["viewer:viewer-secret:read", OPERATOR]
    async with dashboard(sqlite_url, dashboard_session_secret=secret, analyzer_api_keys=narrowed) as client:
        assert (await client.get("/dashboard", headers=cookie)).status_code == 303


async def test_alert_forms_need_alerts_write_and_record_the_key_of_the_session(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, divided())
    async with dashboard(database_url, analyzer_api_keys=KEYS) as client:
        alerts = (await client.get("/v1/alerts", params={"status": "open"}, headers=auth(ANALYZER_KEY))).json()
        path = f"/dashboard/alerts/{alerts[0]['alert_id']}/acknowledge"
        await sign_in(client, key="viewer-secret")
        csrf = hidden((await client.get("/dashboard/alerts")).text, "csrf")
        refused = await client.post(path, data={"csrf": csrf, "by": "maria"})
        assert refused.status_code == 403
        assert "alerts:write" in refused.text
        after = (await client.get("/v1/alerts", params={"status": "open"}, headers=auth(ANALYZER_KEY))).json()
        assert alerts[0]["alert_id"] in {a["alert_id"] for a in after}

        client.cookies.clear()
        await sign_in(client, key="operator-secret")
        csrf = hidden((await client.get("/dashboard/alerts")).text, "csrf")
        assert (await client.post(path, data={"csrf": csrf, "by": "maria"})).status_code == 303
    async with sessions_for(database_url) as sessions, sessions() as session:
        rows = (await session.scalars(select(ChangeRecord))).all()
    assert [(r.key_id, r.action, r.target) for r in rows] == [("operator", "alert.acknowledge", alerts[0]["alert_id"])]
