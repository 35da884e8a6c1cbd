"""Survey requests over a real database (SQLite and PostgreSQL): made at moments, announced through the
outbox and the webhook deliveries, fulfilled by the answer that carries the id, expired, shown in the API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.app import create_app
from services.analyzer.assessment import Assessor
from services.analyzer.db.models import OutboxMessage
from services.analyzer.db.request_models import SurveyRequest
from services.analyzer.db.webhook_models import Delivery, Subscription
from services.analyzer.requests import service
from services.analyzer.requests.choosing import Policy
from services.analyzer.requests.service import RequestConfig
from shared.settings import Topics
from tests.analyzer.helpers import EVERYTHING_IS_NEWS, apply_all, sessions_for
from tests.factories import (
    ANALYZER_KEY,
    auth,
    create_account,
    create_analyzer_settings,
    create_moment,
    create_stakeholder,
    create_survey,
)
from tests.harness.kafka import unique_topics

CONFIG = RequestConfig(policy=Policy(weekly_cap=5), expiry=timedelta(days=14), cadence=timedelta(days=30))


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


NOW = datetime.now(UTC).replace(microsecond=0)
LAST_WEEK = NOW - timedelta(days=6)


def directory() -> list[dict[str, Any]]:
    """Acme renews in 40 days: Pat (procurement, decides), Fay (finance, not to be contacted), Ivy (IT,
    answered last week), Eve (end user, never heard)."""
    at = iso(NOW - timedelta(days=60))
    renewal = (NOW + timedelta(days=40)).date().isoformat()
    return [
        create_account(name="Acme", renewal_date=renewal, segment="enterprise", occurred_at=at),
        create_stakeholder(stakeholder_id="pat", role="procurement", name="Pat Doe", occurred_at=at),
        create_stakeholder(stakeholder_id="fay", role="finance", contactable=False, occurred_at=at),
        create_stakeholder(stakeholder_id="ivy", role="it", occurred_at=at),
        create_stakeholder(stakeholder_id="eve", role="end_user", occurred_at=at),
        create_survey(stakeholder_id="ivy", score=3, occurred_at=iso(LAST_WEEK)),
    ]


async def requests(sessions: async_sessionmaker[AsyncSession]) -> list[SurveyRequest]:
    async with sessions() as session:
        return list(await session.scalars(select(SurveyRequest).order_by(SurveyRequest.stakeholder_id)))


async def subscribe(sessions: async_sessionmaker[AsyncSession], *event_types: str) -> None:
    async with sessions() as session, session.begin():
        session.add(
            Subscription(
                id=f"sub_{'-'.join(event_types)}",
                url="https://crm.example.com/hook",
                event_types=list(event_types),
                secret="whsec_" + "A" * 43,
                status="active",
                created_at=NOW,
                updated_at=NOW,
            )
        )


@asynccontextmanager
async def api(database_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = create_analyzer_settings("127.0.0.1:1", unique_topics(), database_url, **overrides)
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analyzer", headers=auth(ANALYZER_KEY)) as c:
            yield c


async def test_a_renewal_moment_asks_the_right_people_once_and_announces_each_request(database_url: str) -> None:
    topics = Topics()
    async with sessions_for(database_url) as sessions:
        await subscribe(sessions, "survey.requested")
        await subscribe(sessions, "alert.opened")
        moment = create_moment(moment="renewal_approach", occurred_at=iso(NOW - timedelta(hours=1)))
        await apply_all(sessions, [*directory(), moment], requests=CONFIG)

        made = await requests(sessions)
        # Pat decides and was never heard; Eve's role has no position. Fay may not be contacted; Ivy
        # answered last week.
        assert [(r.stakeholder_id, r.reason) for r in made] == [
            ("eve", "role_unmeasured"),
            ("pat", "decision_maker_unheard"),
        ]
        pat = made[1]
        assert pat.request_id.startswith("req_")
        assert len(pat.request_id) == 36
        assert pat.moment == "renewal_approach"
        assert pat.status == "pending"
        assert [q["metric"] for q in pat.questions] == ["nps", "nps", "nps", "nps"]  # overall and three dimensions
        assert pat.expires_at - pat.created_at == timedelta(days=14)

        async with sessions() as session:
            outbox = list(
                await session.scalars(select(OutboxMessage).where(OutboxMessage.topic == topics.survey_requests))
            )
            deliveries = list(await session.scalars(select(Delivery).where(Delivery.event_type == "survey.requested")))
        by_person = {m.value["stakeholder_id"]: m.value for m in outbox}
        assert set(by_person) == {"pat", "eve"}
        assert "name" not in by_person["pat"]  # the person by their id only
        assert by_person["pat"]["request_id"] == pat.request_id
        assert {d.subscription_id for d in deliveries} == {"sub_survey.requested"}  # not the alerts' subscriber
        bodies = [json.loads(d.body) for d in deliveries]
        assert {b["type"] for b in bodies} == {"survey.requested"}
        assert {b["data"]["request_id"] for b in bodies} == {r.request_id for r in made}

        # Another moment the next hour asks nobody again: each holds a pending request.
        again = create_moment(moment="qbr", occurred_at=iso(NOW - timedelta(minutes=30)))
        await apply_all(sessions, [again], requests=CONFIG)
        assert len(await requests(sessions)) == 2


async def test_the_answer_carrying_the_id_fulfils_the_request_and_nobody_elses_does(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        moment = create_moment(moment="support_close", stakeholder_id="eve", occurred_at=iso(NOW - timedelta(hours=2)))
        await apply_all(sessions, [*directory(), moment], requests=CONFIG)
        made = {r.stakeholder_id: r for r in await requests(sessions)}
        assert made["eve"].reason == "moment_participant"
        assert [q["metric"] for q in made["eve"].questions] == ["csat", "ces"]

        # Ivy answers with Eve's request id (a forwarded link): it counts as Ivy's answer, fulfils nothing.
        forged = create_survey(stakeholder_id="ivy", metric="csat", score=2, request_id=made["eve"].request_id)
        forged["occurred_at"] = iso(NOW - timedelta(hours=1))
        answer = create_survey(stakeholder_id="eve", metric="csat", score=4, request_id=made["eve"].request_id)
        answer["occurred_at"] = iso(NOW - timedelta(minutes=30))
        await apply_all(sessions, [forged], requests=CONFIG)
        assert {r.stakeholder_id: r.status for r in await requests(sessions)}["eve"] == "pending"
        await apply_all(sessions, [answer], requests=CONFIG)
        done = {r.stakeholder_id: r for r in await requests(sessions)}
        assert done["eve"].status == "fulfilled"
        assert done["eve"].fulfilled_at == NOW - timedelta(minutes=30)
        assert done["pat"].status == "pending"

    async with api(database_url) as client:
        coverage = (await client.get("/v1/accounts/acme/coverage")).json()
        listed = (await client.get("/v1/survey-requests", params={"account_id": "acme", "status": "fulfilled"})).json()
        one = await client.get(f"/v1/survey-requests/{done['pat'].request_id}")
        missing = await client.get("/v1/accounts/nobody/coverage")
        bad = await client.get("/v1/survey-requests", params={"status": "lost"})
        anonymous = await client.get("/v1/accounts/acme/coverage", headers={"Authorization": ""})
    roles = {r["role"]: r for r in coverage["roles"]}
    assert roles["end_user"]["requests"] == {
        "asked": 1,
        "fulfilled": 1,
        "expired": 0,
        "pending": 0,
        "response_rate": 1.0,
    }
    assert roles["end_user"]["heard"] == 1
    assert roles["procurement"]["requests"]["pending"] == 1
    assert [(d["stakeholder_id"], d["heard"], d["contactable"]) for d in coverage["decision_makers"]] == [
        ("fay", False, False),
        ("pat", False, True),
    ]
    assert {m["moment"]: m["requests"]["fulfilled"] for m in coverage["moments"]} == {"support_close": 1}
    assert [r["stakeholder_id"] for r in listed] == ["eve"]
    assert one.json()["reason"] == "decision_maker_unheard"
    assert missing.status_code == 404
    assert bad.status_code == 422
    assert anonymous.status_code == 401


async def test_requests_expire_the_cap_holds_and_the_cadence_asks_again(database_url: str) -> None:
    assessor = Assessor(EVERYTHING_IS_NEWS, Topics())
    capped = RequestConfig(policy=Policy(weekly_cap=1), expiry=timedelta(days=14), cadence=timedelta(days=10))
    async with sessions_for(database_url) as sessions:
        moment = create_moment(moment="qbr", occurred_at=iso(NOW - timedelta(hours=1)))
        await apply_all(sessions, [*directory(), moment], requests=capped)
        [first] = await requests(sessions)
        assert first.stakeholder_id == "pat"  # the cap leaves room for one: the decision maker

        async with sessions() as session, session.begin():  # a cadence round the same day: the cap is used up
            assert await service.sweep_account(session, assessor, capped, "acme", now=NOW) == []
        async with sessions() as session, session.begin():  # within the cadence: no round
            assert await service.sweep_account(session, assessor, capped, "acme", now=NOW + timedelta(days=8)) == []
        # Twenty days on: Pat's request expired unanswered, and he was asked too recently to be asked again.
        later = NOW + timedelta(days=20)
        async with sessions() as session, session.begin():
            made = await service.sweep_account(session, assessor, capped, "acme", now=later)
        assert [(r.stakeholder_id, r.moment) for r in made] == [("eve", "cadence")]
        statuses = {r.stakeholder_id: r.status for r in await requests(sessions)}
        assert statuses == {"pat": "expired", "eve": "pending"}
