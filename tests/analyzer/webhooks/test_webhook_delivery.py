"""The dispatcher against real HTTP receivers on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from standardwebhooks.webhooks import Webhook

from services.analyzer.webhooks.dispatcher import Dispatcher
from tests.analyzer.helpers import sessions_for
from tests.analyzer.webhooks.flows import (
    alert_change,
    attempts,
    deliveries,
    running_dispatcher,
    subscribe,
    subscription,
    webhook_settings,
)
from tests.analyzer.webhooks.receiver import HANG, Received, running_receiver
from tests.harness.waiting import wait_for_value, wait_until


def verified(secret: str, request: Received) -> dict[str, object]:
    """The payload, verified by the standardwebhooks package (not our implementation)."""
    payload: dict[str, object] = Webhook(secret).verify(request.body, request.headers)
    return payload


async def test_a_receiver_that_fails_then_recovers_gets_one_message_with_one_id(database_url: str) -> None:
    settings = webhook_settings(database_url)
    async with sessions_for(database_url) as sessions, running_receiver((500, {}), (503, {}), (200, {})) as rx:
        sub = await subscribe(sessions, settings, rx.url)
        assert await alert_change(sessions) == 1
        async with running_dispatcher(sessions, settings):
            [delivery] = await wait_for_value(
                lambda: deliveries(sessions, sub.id), lambda ds: ds[0].status == "delivered", timeout_s=10
            )
        assert len(rx.requests) == 3
        assert {r.headers["webhook-id"] for r in rx.requests} == {delivery.msg_id}
        for request in rx.requests:
            payload = verified(sub.secret, request)
            assert payload["type"] == "alert.opened"
            assert payload["data"]["alert_id"] == "al_1"  # type: ignore[index]
        assert [a.status_code for a in await attempts(sessions, delivery.id)] == [500, 503, 200]
        assert (await subscription(sessions, sub.id)).failing_since is None


async def test_a_replayed_alert_change_makes_no_second_message(database_url: str) -> None:
    settings = webhook_settings(database_url)
    async with sessions_for(database_url) as sessions, running_receiver() as rx:
        sub = await subscribe(sessions, settings, rx.url)
        assert await alert_change(sessions, seq=0) == 1
        assert await alert_change(sessions, seq=0) == 0
        assert await alert_change(sessions, seq=1, event_type="alert.updated") == 1
        assert len(await deliveries(sessions, sub.id)) == 2


async def test_filters_pick_event_types_accounts_and_segments(database_url: str) -> None:
    settings = webhook_settings(database_url)
    async with sessions_for(database_url) as sessions:
        opened_only = await subscribe(sessions, settings, "http://127.0.0.1:9/a", event_types=["alert.opened"])
        acme_only = await subscribe(sessions, settings, "http://127.0.0.1:9/b", account_ids=["acme"])
        enterprise = await subscribe(sessions, settings, "http://127.0.0.1:9/c", segments=["enterprise"])
        await alert_change(sessions, alert_id="a1", account_id="acme", segment="smb")
        await alert_change(
            sessions, alert_id="a2", account_id="globex", segment="enterprise", event_type="alert.resolved"
        )
        assert len(await deliveries(sessions, opened_only.id)) == 1
        assert len(await deliveries(sessions, acme_only.id)) == 1
        assert len(await deliveries(sessions, enterprise.id)) == 1


async def test_rotation_signs_with_both_secrets_during_the_overlap(sqlite_url: str) -> None:
    from services.analyzer.webhooks import service

    settings = webhook_settings(sqlite_url)
    async with sessions_for(sqlite_url) as sessions, running_receiver() as rx:
        sub = await subscribe(sessions, settings, rx.url)
        async with sessions() as session, session.begin():
            rotated = await service.rotate_secret(session, settings, sub.id, None)
        async with running_dispatcher(sessions, settings):
            await alert_change(sessions)
            await wait_until(lambda: _count(rx.requests, 1), timeout_s=10, what="the delivery")
        [request] = rx.requests
        assert len(request.headers["webhook-signature"].split()) == 2
        assert verified(sub.secret, request) == verified(rotated.secret, request)
        assert rotated.previous_secret_expires_at is not None
        assert rotated.previous_secret_expires_at - datetime.now(UTC) > timedelta(hours=23)


async def test_retry_after_is_honoured(sqlite_url: str) -> None:
    settings = webhook_settings(sqlite_url, webhook_retry_schedule_s=[0.01])
    arrivals: list[float] = []
    async with sessions_for(sqlite_url) as sessions, running_receiver((429, {"retry-after": "1"}), (200, {})) as rx:
        rx.on_request = lambda _: arrivals.append(time.monotonic())
        sub = await subscribe(sessions, settings, rx.url)
        async with running_dispatcher(sessions, settings):
            await alert_change(sessions)
            [delivery] = await wait_for_value(
                lambda: deliveries(sessions, sub.id), lambda ds: ds[0].status == "delivered", timeout_s=10
            )
        assert arrivals[1] - arrivals[0] >= 0.95  # the schedule alone would have retried after 10 ms
        assert [a.status_code for a in await attempts(sessions, delivery.id)] == [429, 200]


async def test_retry_after_as_an_http_date_is_honoured(sqlite_url: str) -> None:
    settings = webhook_settings(sqlite_url, webhook_retry_schedule_s=[0.01])
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    async with sessions_for(sqlite_url) as sessions, running_receiver((503, {"retry-after": when}), (200, {})) as rx:
        sub = await subscribe(sessions, settings, rx.url)
        await alert_change(sessions)
        async with running_dispatcher(sessions, settings):
            await wait_until(lambda: _count(rx.requests, 1), timeout_s=10, what="the first attempt")
            [delivery] = await wait_for_value(
                lambda: deliveries(sessions, sub.id), lambda ds: ds[0].attempts == 1, timeout_s=10
            )
            assert delivery.next_attempt_at is not None
            assert delivery.next_attempt_at - datetime.now(UTC) > timedelta(seconds=0.5)


async def test_410_gone_disables_the_subscription(database_url: str) -> None:
    settings = webhook_settings(database_url)
    async with sessions_for(database_url) as sessions, running_receiver((410, {})) as rx:
        sub = await subscribe(sessions, settings, rx.url)
        async with running_dispatcher(sessions, settings):
            await alert_change(sessions)
            stored = await wait_for_value(
                lambda: subscription(sessions, sub.id), lambda s: s.status == "disabled", timeout_s=10
            )
            assert stored.disabled_reason is not None
            assert "410" in stored.disabled_reason
            [delivery] = await deliveries(sessions, sub.id)
            assert delivery.status == "failed"
            assert await alert_change(sessions, alert_id="al_2") == 0  # a disabled subscription gets nothing new
        assert len(rx.requests) == 1


async def test_last_attempt_marks_failed_and_a_long_failure_disables(sqlite_url: str) -> None:
    settings = webhook_settings(sqlite_url, webhook_retry_schedule_s=[0.01, 0.01], webhook_disable_after_s=0.001)
    async with sessions_for(sqlite_url) as sessions, running_receiver((500, {})) as rx:
        sub = await subscribe(sessions, settings, rx.url)
        await alert_change(sessions)
        async with running_dispatcher(sessions, settings):
            stored = await wait_for_value(
                lambda: subscription(sessions, sub.id), lambda s: s.status == "disabled", timeout_s=10
            )
        assert stored.disabled_reason is not None
        assert "HTTP 500" in stored.disabled_reason
        assert len(rx.requests) >= 1


async def test_failed_after_the_schedule_then_replayed_with_the_same_id(database_url: str) -> None:
    from services.analyzer.webhooks import service

    settings = webhook_settings(database_url, webhook_retry_schedule_s=[0.01, 0.01])
    async with (
        sessions_for(database_url) as sessions,
        running_receiver((500, {}), (500, {}), (500, {}), (200, {})) as rx,
    ):
        sub = await subscribe(sessions, settings, rx.url)
        await alert_change(sessions)
        async with running_dispatcher(sessions, settings):
            [failed] = await wait_for_value(
                lambda: deliveries(sessions, sub.id), lambda ds: ds[0].status == "failed", timeout_s=10
            )
            assert failed.attempts == 3
            async with sessions() as session, session.begin():
                assert await service.replay_failed(session, sub.id) == 1
            await wait_for_value(
                lambda: deliveries(sessions, sub.id), lambda ds: ds[0].status == "delivered", timeout_s=10
            )
        assert {r.headers["webhook-id"] for r in rx.requests} == {failed.msg_id}


async def test_a_restart_mid_retry_resumes_the_delivery(database_url: str) -> None:
    settings = webhook_settings(database_url, webhook_retry_schedule_s=[0.5])
    async with sessions_for(database_url) as sessions, running_receiver((500, {}), (200, {})) as rx:
        sub = await subscribe(sessions, settings, rx.url)
        await alert_change(sessions)
        async with running_dispatcher(sessions, settings):
            await wait_for_value(lambda: deliveries(sessions, sub.id), lambda ds: ds[0].attempts == 1, timeout_s=10)
        # The first dispatcher is gone with the retry still pending; a new process picks it up from the table.
        [pending] = await deliveries(sessions, sub.id)
        assert pending.status == "pending"
        async with sessions_for(database_url) as fresh, running_dispatcher(fresh, settings):
            await wait_for_value(
                lambda: deliveries(fresh, sub.id), lambda ds: ds[0].status == "delivered", timeout_s=10
            )
        assert [r.headers["webhook-id"] for r in rx.requests] == [pending.msg_id, pending.msg_id]


async def test_a_hanging_receiver_does_not_stall_another_subscriber(database_url: str) -> None:
    settings = webhook_settings(database_url, webhook_request_timeout_s=60.0)
    async with (
        sessions_for(database_url) as sessions,
        running_receiver((HANG, {})) as slow,
        running_receiver() as fast,
    ):
        await subscribe(sessions, settings, slow.url)
        fast_sub = await subscribe(sessions, settings, fast.url)
        async with running_dispatcher(sessions, settings):
            await alert_change(sessions, alert_id="a1")
            await wait_until(lambda: _count(slow.requests, 1), timeout_s=10, what="the slow receiver to be hanging")
            for n in range(2, 6):
                await alert_change(sessions, alert_id=f"a{n}")
            # Bounded: far below the 60 s request timeout the slow receiver is holding.
            await wait_for_value(
                lambda: deliveries(sessions, fast_sub.id),
                lambda ds: len(ds) == 5 and all(d.status == "delivered" for d in ds),
                timeout_s=5,
                what="the fast receiver's deliveries",
            )
            # The slow endpoint holds at most its own slots; its fifth message waits for one.
            assert 1 <= len(slow.requests) <= settings.webhook_endpoint_concurrency


async def test_a_forbidden_target_at_send_time_is_recorded(sqlite_url: str) -> None:
    allowed = webhook_settings(sqlite_url)
    strict = webhook_settings(sqlite_url, webhook_allow_private_targets=False, webhook_retry_schedule_s=[60])
    async with sessions_for(sqlite_url) as sessions:
        # Created while private targets were allowed; the dispatcher of a strict process must still refuse it.
        sub = await subscribe(sessions, allowed, "http://localhost:9/hook")
        await alert_change(sessions)
        async with running_dispatcher(sessions, strict):
            [delivery] = await wait_for_value(
                lambda: deliveries(sessions, sub.id), lambda ds: ds[0].attempts == 1, timeout_s=10
            )
        [attempt] = await attempts(sessions, delivery.id)
        assert attempt.status_code is None
        assert attempt.error is not None
        assert attempt.error == "address not allowed"  # the host and the rule stay in the log


async def _count(items: list[Received], n: int) -> bool:
    return len(items) >= n


async def test_a_send_still_running_is_not_claimed_again_when_its_lease_runs_out(sqlite_url: str) -> None:
    # A lease shorter than the request: the send outlives it, as a slow receiver can make it do.
    settings = webhook_settings(sqlite_url, webhook_request_timeout_s=60.0, webhook_lease_s=0.2)
    async with sessions_for(sqlite_url) as sessions, running_receiver((HANG, {})) as slow:
        sub = await subscribe(sessions, settings, slow.url)
        await alert_change(sessions, alert_id="a1")
        dispatcher = Dispatcher(sessions, settings)
        try:
            assert await dispatcher.dispatch_due() == 1
            await wait_until(lambda: _count(slow.requests, 1), timeout_s=10, what="the send to be hanging")
            await wait_for_value(
                lambda: deliveries(sessions, sub.id),
                lambda ds: ds[0].lease_until is not None and ds[0].lease_until < datetime.now(UTC),
                timeout_s=10,
                what="the lease to run out",
            )
            assert await dispatcher.dispatch_due() == 0, "the running send was claimed a second time"
            assert len(slow.requests) == 1
        finally:
            await dispatcher.close()
