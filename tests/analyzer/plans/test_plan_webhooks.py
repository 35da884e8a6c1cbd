"""The ``action.*`` webhooks at a real receiver: a plan made, noted and done reaches a CRM's endpoint as
``action.created``, ``action.updated`` and ``action.completed``, each signed (verified with the
``standardwebhooks`` package) and once; a subscriber of alerts only hears the alert and none of the plan."""

from __future__ import annotations

import json

from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from services.analyzer.assessment import Assessor
from services.analyzer.db.models import AlertRow
from services.analyzer.plans import service
from shared.settings import Topics
from tests.analyzer.helpers import EVERYTHING_IS_NEWS, apply_all, sessions_for
from tests.analyzer.plans.test_plans import split
from tests.analyzer.webhooks.flows import running_dispatcher, subscribe, webhook_settings
from tests.analyzer.webhooks.receiver import running_receiver
from tests.harness.waiting import wait_until

ACTIONS = ["action.created", "action.updated", "action.completed"]


async def test_a_plan_reaches_the_crm_as_signed_action_events(database_url: str) -> None:
    settings = webhook_settings(database_url)
    assessor = Assessor(EVERYTHING_IS_NEWS, Topics())
    async with (
        sessions_for(database_url) as sessions,
        running_receiver() as crm,
        running_receiver() as alerts_only,
    ):
        created = await subscribe(sessions, settings, crm.url, event_types=ACTIONS, account_ids=["acme"])
        await subscribe(sessions, settings, alerts_only.url, event_types=["alert.opened"], account_ids=["acme"])
        await apply_all(sessions, split())
        async with sessions() as session:
            alert_id = (
                await session.scalars(select(AlertRow.alert_id).where(AlertRow.type == "stakeholder_divergence"))
            ).one()
        async with running_dispatcher(sessions, settings):
            async with sessions() as session, session.begin():
                plan = await service.create(
                    session,
                    assessor,
                    alert_id,
                    owner="Sam",
                    due_date=None,
                    steps=["Call IT"],
                    note=None,
                    by=None,
                    key_id="crm-test",
                )
                plan_id = plan.plan_id
            async with sessions() as session, session.begin():
                await service.add_note(session, plan_id, text="called the CIO", by="Sam", key_id="crm-test")
            async with sessions() as session, session.begin():
                await service.change(session, assessor, None, plan_id, status="done", key_id="crm-test")

            async def all_received() -> bool:
                return len(crm.requests) >= 3 and len(alerts_only.requests) >= 1

            await wait_until(all_received, what="the three action events at the CRM, the alert at the other")
        bodies = [json.loads(r.body) for r in crm.requests]
        assert sorted(b["type"] for b in bodies) == sorted(["action.created", "action.updated", "action.completed"])
        assert {b["data"]["plan_id"] for b in bodies} == {plan_id}
        completed = next(b for b in bodies if b["type"] == "action.completed")
        assert completed["data"]["status"] == "done"
        assert completed["data"]["notes"][0]["text"] == "called the CIO"
        assert completed["data"]["before"]["low_role"] == "it"
        ids = [r.headers["webhook-id"] for r in crm.requests]
        assert len(ids) == len(set(ids))
        for request in crm.requests:
            Webhook(created.secret).verify(request.body, request.headers)
        assert {json.loads(r.body)["type"] for r in alerts_only.requests} == {"alert.opened"}
