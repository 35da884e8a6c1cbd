"""The whole path inside the analyzer: events open an alert, and a subscriber receives it, signed."""

from __future__ import annotations

import json

from standardwebhooks.webhooks import Webhook

from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.test_api import split_account
from tests.analyzer.webhooks.flows import running_dispatcher, subscribe, webhook_settings
from tests.analyzer.webhooks.receiver import running_receiver
from tests.harness.waiting import wait_until


async def test_an_alert_opened_by_events_reaches_the_subscriber_once(database_url: str) -> None:
    settings = webhook_settings(database_url)
    async with sessions_for(database_url) as sessions, running_receiver() as receiver:
        created = await subscribe(sessions, settings, receiver.url, event_types=["alert.opened"], account_ids=["acme"])
        async with running_dispatcher(sessions, settings):
            await apply_all(sessions, split_account("acme", procurement=10, it=2))
            await apply_all(sessions, split_account("other", procurement=10, it=2))  # filtered out
            # A replay of the same events must not make a second message.
            await apply_all(sessions, split_account("acme", procurement=10, it=2))

            async def divergence_received() -> bool:
                return any(b"stakeholder_divergence" in r.body for r in receiver.requests)

            await wait_until(divergence_received, what="the divergence alert delivered")
        bodies = [json.loads(r.body) for r in receiver.requests]
        assert {b["type"] for b in bodies} == {"alert.opened"}
        assert {b["data"]["account_id"] for b in bodies} == {"acme"}
        ids = [r.headers["webhook-id"] for r in receiver.requests]
        assert len(ids) == len(set(ids)), "each alert change is one message"
        for request in receiver.requests:
            Webhook(created.secret).verify(request.body, request.headers)
