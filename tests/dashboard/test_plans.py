"""The dashboard's action-plan forms over HTTP on a real database (SQLite and PostgreSQL): the CSRF token
and the ``alerts:write`` scope are required, user text is escaped, impossible moves are refused, and the
plan with its before/after shows on the alert list and the account page."""

from __future__ import annotations

import html

from tests.analyzer.helpers import apply_all, sessions_for
from tests.dashboard.test_http import HOSTILE, dashboard, divided, hidden, sign_in
from tests.factories import ANALYZER_KEY, auth


async def test_a_plan_is_made_moved_and_noted_through_the_forms(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, divided())
    async with dashboard(
        database_url, analyzer_api_keys=[ANALYZER_KEY, "reader:reader-secret:read+dashboard"]
    ) as client:
        alerts = (await client.get("/v1/alerts", params={"status": "open"}, headers=auth(ANALYZER_KEY))).json()
        alert = next(a for a in alerts if a["type"] == "stakeholder_divergence")
        await sign_in(client)
        page = await client.get("/dashboard/alerts", params={"account_id": "acme"})
        assert "Make a plan" in page.text
        csrf = hidden(page.text, "csrf")
        back = "/dashboard/alerts?account_id=acme"
        form = {"alert_id": alert["alert_id"], "owner": HOSTILE, "steps": "Call IT\n\n Fix SSO ", "return_to": back}
        assert (await client.post("/dashboard/plans", data=form | {"csrf": "forged"})).status_code == 403
        assert (await client.post("/dashboard/plans", data=form | {"csrf": csrf, "owner": " "})).status_code == 422
        made = await client.post("/dashboard/plans", data=form | {"csrf": csrf})
        assert made.status_code == 303
        assert made.headers["location"].startswith(back + "#plan-")
        again = await client.post("/dashboard/plans", data=form | {"csrf": csrf})
        assert again.status_code == 409
        [plan] = (await client.get("/v1/plans", params={"account_id": "acme"}, headers=auth(ANALYZER_KEY))).json()
        assert plan["steps"] == ["Call IT", "Fix SSO"]
        assert plan["owner"] == HOSTILE

        shown = (await client.get(back)).text
        assert HOSTILE not in shown
        assert html.escape(HOSTILE) in shown.replace("&#34;", "&quot;")
        assert f'data-plan="{plan["plan_id"]}"' in shown
        assert "Make a plan" not in shown  # one open plan per alert
        status = f"/dashboard/plans/{plan['plan_id']}/status"
        notes = f"/dashboard/plans/{plan['plan_id']}/notes"
        assert (await client.post(status, data={"csrf": csrf, "status": "finished"})).status_code == 422
        assert (
            await client.post(notes, data={"csrf": csrf, "text": "workshop <b>held</b>", "by": "maria"})
        ).status_code == 303
        assert (await client.post(status, data={"csrf": csrf, "status": "in_progress"})).status_code == 303
        assert (await client.post(status, data={"csrf": csrf, "status": "planned"})).status_code == 409
        assert (await client.post(status, data={"csrf": csrf, "status": "done"})).status_code == 303
        assert (await client.post(status, data={"csrf": csrf, "status": "done"})).status_code == 409
        assert (
            await client.post("/dashboard/plans/plan_nope/notes", data={"csrf": csrf, "text": "x"})
        ).status_code == 404

        account = (await client.get("/dashboard/accounts/acme")).text
        assert 'id="plans"' in account
        assert "procurement-it gap" in account
        assert "workshop &lt;b&gt;held&lt;/b&gt;" in account
        assert "<b>held</b>" not in account
        done = (await client.get(f"/v1/plans/{plan['plan_id']}", headers=auth(ANALYZER_KEY))).json()
        assert done["status"] == "done"
        assert [n["by"] for n in done["notes"]] == ["maria"]

        # A key without alerts:write sees the plans but cannot change them.
        await client.post("/dashboard/logout", data={"csrf": csrf})
        await sign_in(client, key="reader-secret")
        reader = await client.get(back)
        refused = await client.post(notes, data={"csrf": hidden(reader.text, "csrf"), "text": "x"})
        assert refused.status_code == 403
        assert "alerts:write" in refused.text
