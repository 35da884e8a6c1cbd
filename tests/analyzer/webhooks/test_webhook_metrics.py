"""The dispatcher's counters behind the webhook metrics on /metrics (docs/operations.md)."""

from __future__ import annotations

from tests.analyzer.helpers import sessions_for
from tests.analyzer.webhooks.flows import alert_change, deliveries, running_dispatcher, subscribe, webhook_settings
from tests.analyzer.webhooks.receiver import running_receiver
from tests.harness.waiting import wait_for_value


async def test_failed_attempts_retries_and_a_delivery_given_up_are_counted(sqlite_url: str) -> None:
    settings = webhook_settings(sqlite_url, webhook_retry_schedule_s=[0.01, 0.01])
    async with sessions_for(sqlite_url) as sessions, running_receiver((500, {}), (503, {}), (500, {})) as rx:
        sub = await subscribe(sessions, settings, rx.url)
        await alert_change(sessions)
        async with running_dispatcher(sessions, settings) as dispatcher:
            await wait_for_value(
                lambda: deliveries(sessions, sub.id), lambda ds: ds[0].status == "failed", timeout_s=10
            )
            stats = dispatcher.stats
    assert len(rx.requests) == 3
    assert (stats.attempts, stats.attempts_failed, stats.retried, stats.failed, stats.delivered) == (3, 3, 2, 1, 0)


async def test_a_delivered_attempt_is_not_a_failure(sqlite_url: str) -> None:
    settings = webhook_settings(sqlite_url)
    async with sessions_for(sqlite_url) as sessions, running_receiver((200, {})) as rx:
        sub = await subscribe(sessions, settings, rx.url)
        await alert_change(sessions)
        async with running_dispatcher(sessions, settings) as dispatcher:
            await wait_for_value(
                lambda: deliveries(sessions, sub.id), lambda ds: ds[0].status == "delivered", timeout_s=10
            )
            stats = dispatcher.stats
    assert (stats.attempts, stats.attempts_failed, stats.delivered, stats.failed) == (1, 0, 1, 0)
