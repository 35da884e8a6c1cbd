"""Action plans over a real database (SQLite and PostgreSQL) through the API: made on an alert with the gap
recorded, moved through their statuses (impossible moves refused), noted, announced as ``action.*``
deliveries, followed up when done, and shown before and after once the follow-up answers arrive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.app import create_app
from services.analyzer.db.change_models import ChangeRecord
from services.analyzer.db.request_models import SurveyRequest
from services.analyzer.db.webhook_models import Delivery, Subscription
from services.analyzer.requests.choosing import Policy
from services.analyzer.requests.service import RequestConfig
from tests.analyzer.helpers import apply_all, sessions_for
from tests.factories import (
    ANALYZER_KEY,
    auth,
    create_account,
    create_analyzer_settings,
    create_stakeholder,
    create_survey,
)
from tests.harness.kafka import unique_topics

NOW = datetime.now(UTC).replace(microsecond=0)
CONFIG = RequestConfig(policy=Policy(weekly_cap=10))


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def split() -> list[dict[str, Any]]:
    """Acme 40 days ago: procurement (Pat, Paz) promoters, IT (Ivy, Ian) detractors; Ida (IT) may not be
    contacted; Fin (finance) is on neither side."""
    at = iso(NOW - timedelta(days=41))
    answered = iso(NOW - timedelta(days=40))
    people = [("pat", "procurement", 10), ("paz", "procurement", 10), ("ivy", "it", 1), ("ian", "it", 1)]
    return [
        create_account(name="Acme", segment="enterprise", occurred_at=at),
        *[create_stakeholder(stakeholder_id=s, role=r, occurred_at=at) for s, r, _ in people],
        create_stakeholder(stakeholder_id="ida", role="it", contactable=False, occurred_at=at),
        create_stakeholder(stakeholder_id="fin", role="finance", occurred_at=at),
        *[create_survey(stakeholder_id=s, score=score, occurred_at=answered) for s, _, score in people],
        create_survey(stakeholder_id="ida", score=1, occurred_at=answered),
        create_survey(stakeholder_id="fin", score=5, occurred_at=answered),
    ]


@asynccontextmanager
async def api(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    # The deliveries are read from their rows, never sent: no dispatcher (its attempts would resolve
    # crm.example.com, and a slow resolver only slows the test's shutdown).
    settings = create_analyzer_settings(
        "127.0.0.1:1",
        unique_topics(),
        database_url,
        survey_request_weekly_cap=10,
        webhook_dispatcher_enabled=False,
    )
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analyzer", headers=auth(ANALYZER_KEY)) as c:
            yield c


async def subscribe(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        session.add(
            Subscription(
                id="sub_crm",
                url="https://crm.example.com/hook",
                event_types=["action.created", "action.updated", "action.completed"],
                secret="whsec_" + "A" * 43,
                status="active",
                created_at=NOW,
                updated_at=NOW,
            )
        )


async def deliveries(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(select(Delivery).where(Delivery.event_type.like("action.%")).order_by(Delivery.id))
        return [json.loads(d.body) for d in rows]


async def follow_ups(sessions: async_sessionmaker[AsyncSession]) -> list[SurveyRequest]:
    async with sessions() as session:
        query = select(SurveyRequest).where(SurveyRequest.reason == "plan_follow_up")
        return list(await session.scalars(query.order_by(SurveyRequest.stakeholder_id)))


async def test_a_plan_is_made_moved_noted_announced_followed_up_and_shows_before_and_after(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split())
        await subscribe(sessions)
    async with api(database_url) as client:
        [alert] = (await client.get("/v1/alerts", params={"type": "stakeholder_divergence"})).json()
        path = f"/v1/alerts/{alert['alert_id']}/plan"
        body = {
            "owner": "Sam (CSM)",
            "due_date": (NOW + timedelta(days=30)).date().isoformat(),
            "steps": ["Workshop with IT", "Fix the SSO outage"],
            "note": "agreed with the sponsor",
            "by": "sam@supplier",
        }
        made = await client.post(path, json=body)
        assert made.status_code == 201, made.text
        plan = made.json()
        assert plan["status"] == "planned"
        assert plan["steps"] == ["Workshop with IT", "Fix the SSO outage"]
        assert [(n["by"], n["text"]) for n in plan["notes"]] == [("sam@supplier", "agreed with the sponsor")]
        before = plan["outcome"]["before"]
        assert (before["high_role"], before["low_role"]) == ("procurement", "it")
        assert before["gap"] == pytest.approx(1.8, abs=0.01)
        assert before["se"] > 0
        assert before["lower"] == pytest.approx(before["gap"] - before["se"], abs=1e-3)  # z = 1
        assert plan["outcome"]["after"] is None

        # One open plan per alert; blank owners, past due dates, unknown alerts and statuses are refused.
        assert (await client.post(path, json=body)).status_code == 409
        blank = await client.post(path, json={"owner": "   "})
        assert blank.status_code == 422
        past = await client.post(path, json={"owner": "Sam", "due_date": "2020-01-01"})
        assert past.status_code in (409, 422)
        assert (await client.post("/v1/alerts/al_nope/plan", json={"owner": "Sam"})).status_code == 404
        plan_path = f"/v1/plans/{plan['plan_id']}"
        assert (await client.patch(plan_path, json={"status": "finished"})).status_code == 422
        assert (await client.patch(plan_path, json={})).status_code == 422
        assert (await client.patch(plan_path, json={"status": None})).status_code == 422
        assert (await client.patch("/v1/plans/plan_nope", json={"status": "done"})).status_code == 404

        started = await client.patch(plan_path, json={"status": "in_progress", "owner": "Kim"})
        assert started.status_code == 200
        assert (started.json()["status"], started.json()["owner"]) == ("in_progress", "Kim")
        back = await client.patch(plan_path, json={"status": "planned"})
        assert back.status_code == 409
        assert (
            back.json()["detail"] == "a plan cannot go from in_progress to planned (from in_progress: abandoned, done)"
        )
        noted = await client.post(f"{plan_path}/notes", json={"text": "workshop held <b>today</b>"})
        assert noted.status_code == 201
        assert noted.json()["notes"][-1] == {
            "at": noted.json()["notes"][-1]["at"],
            "by": "key-1",
            "text": "workshop held <b>today</b>",
        }

        done = await client.patch(plan_path, json={"status": "done"})
        assert done.status_code == 200
        assert done.json()["completed_at"] is not None
        assert done.json()["outcome"]["follow_up_requests"] == 4
        assert done.json()["outcome"]["after"] is None  # nobody answered since
        final = await client.patch(plan_path, json={"owner": "Lee"})
        assert final.status_code == 409
        assert "done" in final.json()["detail"]

    async with sessions_for(database_url) as sessions:
        asked = await follow_ups(sessions)
        # Both sides, but neither Ida (not to be contacted) nor Fin (finance).
        assert [r.stakeholder_id for r in asked] == ["ian", "ivy", "pat", "paz"]
        assert {r.moment_event_id for r in asked} == {f"plan:{plan['plan_id']}"}
        sent = await deliveries(sessions)
        assert [d["type"] for d in sent] == [
            "action.created",
            "action.updated",
            "action.updated",
            "action.completed",
        ]
        assert sent[0]["data"]["plan_id"] == plan["plan_id"]
        assert sent[0]["data"]["before"]["high_role"] == "procurement"
        assert sent[-1]["data"]["status"] == "done"
        async with sessions() as session:
            recorded = [
                (c.key_id, c.action)
                for c in await session.scalars(select(ChangeRecord).where(ChangeRecord.target == plan["plan_id"]))
            ]
        assert sorted(recorded) == sorted(
            [("key-1", "plan.create"), ("key-1", "plan.in_progress"), ("key-1", "plan.note"), ("key-1", "plan.done")]
        )

        # The follow-up answers: IT came round, procurement stays; the gap narrows.
        by_person = {r.stakeholder_id: r.request_id for r in asked}
        later = iso(datetime.now(UTC) + timedelta(seconds=1))  # answered after the plan was done
        answers = [
            create_survey(stakeholder_id="ivy", score=8, occurred_at=later, request_id=by_person["ivy"]),
            create_survey(stakeholder_id="ian", score=8, occurred_at=later, request_id=by_person["ian"]),
            create_survey(stakeholder_id="pat", score=9, occurred_at=later, request_id=by_person["pat"]),
        ]
        for answer in answers:
            answer["event_id"] = f"follow-{answer['stakeholder_id']}"
        await apply_all(sessions, answers, requests=CONFIG)

    async with api(database_url) as client:
        view = (await client.get(f"/v1/plans/{plan['plan_id']}")).json()
        listed = (await client.get("/v1/plans", params={"account_id": "acme", "status": "done"})).json()
        none_open = (await client.get("/v1/plans", params={"account_id": "acme", "status": "planned"})).json()
        bad = await client.get("/v1/plans", params={"status": "lost"})
    outcome = view["outcome"]
    assert outcome["follow_up_fulfilled"] == 3
    assert outcome["answered_roles"] == ["procurement", "it"]
    after = outcome["after"]
    assert (after["high_role"], after["low_role"]) == ("procurement", "it")
    assert after["gap"] < outcome["before"]["gap"] - 0.5
    assert outcome["change"] == pytest.approx(after["gap"] - outcome["before"]["gap"], abs=1e-3)
    assert outcome["change_se"] > 0
    assert outcome["narrowed"] is True
    assert [p["plan_id"] for p in listed] == [plan["plan_id"]]
    assert none_open == []
    assert bad.status_code == 422


async def test_a_plan_needs_an_open_alert_and_an_abandoned_plan_completes_without_follow_up(
    database_url: str,
) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split())
        await subscribe(sessions)
    async with api(database_url) as client:
        [alert] = (await client.get("/v1/alerts", params={"type": "stakeholder_divergence"})).json()
        plan = (await client.post(f"/v1/alerts/{alert['alert_id']}/plan", json={"owner": "Sam"})).json()
        assert plan["due_date"] is None
        assert plan["steps"] == []
        dropped = await client.patch(f"/v1/plans/{plan['plan_id']}", json={"status": "abandoned"})
        assert dropped.status_code == 200
        # Another plan may follow an abandoned one; a resolved alert takes none.
        second = await client.post(f"/v1/alerts/{alert['alert_id']}/plan", json={"owner": "Kim"})
        assert second.status_code == 201
        await client.post(f"/v1/alerts/{alert['alert_id']}/resolve", json={"by": "Sam"})
        third = await client.post(f"/v1/alerts/{alert['alert_id']}/plan", json={"owner": "Lee"})
        assert third.status_code == 409
        assert "resolved" in third.json()["detail"]
    async with sessions_for(database_url) as sessions:
        assert await follow_ups(sessions) == []
        assert [d["type"] for d in await deliveries(sessions)] == [
            "action.created",
            "action.completed",
            "action.created",
        ]
