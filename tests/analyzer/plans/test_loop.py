"""The loop figures over a real database (SQLite and PostgreSQL) through the API: an alert acknowledged,
planned, done, answered again until its gap closes, beside an account nobody acted on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.plans.test_plans import CONFIG, api, follow_ups, iso
from tests.factories import auth, create_account, create_stakeholder, create_survey

# Long enough ago that the follow-up answers outweigh the first ones (the model's half-life), so the gap closes.
DAYS_AGO = 300


def split(account_id: str) -> list[dict[str, Any]]:
    """DAYS_AGO days ago: procurement (Pat, Paz) promoters, IT (Ivy, Ian) detractors."""
    at = iso(datetime.now(UTC) - timedelta(days=DAYS_AGO))
    people = [("pat", "procurement", 10), ("paz", "procurement", 10), ("ivy", "it", 1), ("ian", "it", 1)]
    return [
        create_account(account_id=account_id, occurred_at=at),
        *[create_stakeholder(account_id=account_id, stakeholder_id=s, role=r, occurred_at=at) for s, r, _ in people],
        *[create_survey(account_id=account_id, stakeholder_id=s, score=n, occurred_at=at) for s, _, n in people],
    ]


async def test_the_loop_counts_each_step_from_the_alert_and_the_gaps_a_plan_closed(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split("acme"))
        await apply_all(sessions, split("beta"))
    async with api(database_url) as client:
        listed = (await client.get("/v1/alerts", params={"account_id": "acme"})).json()
        [alert] = [a for a in listed if a["type"] == "stakeholder_divergence"]
        untouched = await client.get("/v1/accounts/acme/loop")
        assert untouched.status_code == 200
        assert untouched.json()["planned"] == 0
        assert untouched.json()["to_plan"] == {"alerts": 0, "median_hours": None, "mean_hours": None}
        assert untouched.json()["closed_share"] is None

        acked = await client.post(f"/v1/alerts/{alert['alert_id']}/acknowledge", json={"by": "Sam"})
        assert acked.status_code == 200, acked.text
        plan = (await client.post(f"/v1/alerts/{alert['alert_id']}/plan", json={"owner": "Sam"})).json()
        done = await client.patch(f"/v1/plans/{plan['plan_id']}", json={"status": "done"})
        assert done.status_code == 200, done.text
        waiting = (await client.get("/v1/accounts/acme/loop")).json()
    # Done but not answered since: completed, not yet measured.
    assert (waiting["acknowledged"], waiting["planned"], waiting["completed"]) == (1, 1, 1)
    assert (waiting["measured"], waiting["closed"], waiting["closed_share"]) == (0, 0, None)
    assert waiting["recovered"] == 0
    # Acknowledged, planned and done within this test: seconds, on the wall clock.
    for step in ("to_acknowledge", "to_plan", "to_completion"):
        assert waiting[step]["alerts"] == 1
        assert 0 <= waiting[step]["median_hours"] < 0.1

    # The follow-up: IT comes round, procurement stays; the gap closes and the alert clears.
    later = iso(datetime.now(UTC) + timedelta(seconds=1))
    async with sessions_for(database_url) as sessions:
        asked = {r.stakeholder_id: r.request_id for r in await follow_ups(sessions)}
        answers = [
            create_survey(stakeholder_id=s, score=10, occurred_at=later, request_id=asked.get(s))
            for s in ("ivy", "ian", "pat", "paz")
        ]
        for answer in answers:
            answer["event_id"] = f"follow-{answer['stakeholder_id']}"
        await apply_all(sessions, answers, requests=CONFIG)

    async with api(database_url) as client:
        account = (await client.get("/v1/accounts/acme/loop")).json()
        portfolio = (await client.get("/v1/loop")).json()
        alerts = {a["alert_id"]: a for a in (await client.get("/v1/alerts", params={"limit": 1000})).json()}
        unknown = await client.get("/v1/accounts/nope/loop")
        stranger = await client.get("/v1/loop", headers=auth("not-a-key"))
    assert account["account_id"] == "acme"
    assert (account["measured"], account["closed"], account["closed_share"]) == (1, 1, 1.0)
    # The divergence opened DAYS_AGO days before the follow-up answers, in event time.
    assert account["recovered"] >= 1
    assert account["to_recovery"]["mean_hours"] == pytest.approx(DAYS_AGO * 24, abs=1)
    acted_on = [a for a in alerts.values() if a["type"] != "alignment_restored"]
    assert account["alerts"] == sum(a["account_id"] == "acme" for a in acted_on)
    # The portfolio: both accounts' alerts, the one plan.
    assert portfolio["account_id"] is None
    assert portfolio["alerts"] == len(acted_on) > account["alerts"]
    assert (portfolio["planned"], portfolio["completed"], portfolio["closed_share"]) == (1, 1, 1.0)
    assert portfolio["acknowledged"] == 1
    assert unknown.status_code == 404
    assert stranger.status_code == 401
