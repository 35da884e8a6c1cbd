"""The webhook receiver down for an hour of retries, then up: each alert change delivered exactly once.

The hour is simulated: ``WEBHOOK_RETRY_SCHEDULE_S`` takes the documented schedule (docs/webhooks.md)
divided by 3600, so one simulated hour passes in one real second, jitter included. Within its first
hour the schedule makes five attempts (at 0 s, 5 s, 1 min 5 s, 6 min 5 s and 36 min 5 s, each wait
within ±20 %); the sixth comes at about 2.6 h. The receiver has no listening socket until every
delivery has made its five attempts and an hour has passed since its first; then it listens again on
the same port, and every message must arrive once, with its signature, and be marked delivered.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import stream
from services.analyzer.settings import DEFAULT_RETRY_SCHEDULE_S
from shared.settings import Topics
from tests.factories import ANALYZER_KEY, auth
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value
from tests.reliability.books import LedgerProbe, read_books, reconcile
from tests.reliability.conftest import analyzer_process, subscribe
from tests.reliability.figures import Figures, report
from tests.reliability.receiver import WebhookReceiver
from tests.reliability.sender import Sender

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

SCALE = 3600.0  # simulated seconds per real second
HOUR = 3600.0
ATTEMPTS_IN_FIRST_HOUR = 5


def compressed(schedule: tuple[float, ...] | tuple[int, ...], scale: float) -> str:
    """The schedule as ``WEBHOOK_RETRY_SCHEDULE_S`` with every wait divided by ``scale``."""
    return ",".join(f"{wait / scale:.6f}" for wait in schedule)


async def deliveries(analyzer: ServiceProcess, subscription_id: str) -> list[dict[str, Any]]:
    """Every delivery of the subscription with its attempts, from the analyzer's API."""
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY), timeout=10) as client:
        response = await client.get(f"/v1/subscriptions/{subscription_id}/deliveries", params={"limit": 500})
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["deliveries"]
    return listed


def down_for_an_hour(listed: list[dict[str, Any]], *, expected: int) -> bool:
    """Every delivery exists, is still pending, has made its first hour's attempts, and the hour is over."""
    now = datetime.now(UTC)
    return len(listed) == expected and all(
        d["status"] == "pending"
        and len(d["attempts"]) >= ATTEMPTS_IN_FIRST_HOUR
        and (now - datetime.fromisoformat(d["attempts"][0]["attempted_at"])).total_seconds() * SCALE >= HOUR
        for d in listed
    )


def all_delivered(listed: list[dict[str, Any]]) -> bool:
    """Every delivery marked delivered."""
    return all(d["status"] == "delivered" for d in listed)


@pytest.mark.timeout(180)
async def test_receiver_down_for_a_simulated_hour_then_up_gets_each_alert_change_once(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, database_url: str, tmp_path: Path
) -> None:
    receiver = WebhookReceiver()
    receiver.up()
    receiver.down()  # a port of its own, and nothing listening on it: every connection is refused
    analyzer = analyzer_process(
        kafka_bootstrap,
        topics,
        database_url,
        tmp_path,
        "webhook-outage",
        WEBHOOK_RETRY_SCHEDULE_S=compressed(DEFAULT_RETRY_SCHEDULE_S, SCALE),
        WEBHOOK_DISABLE_AFTER_S=str(5 * 86_400 / SCALE),  # the documented 5 days, on the same clock
    )
    analyzer.start()
    probe = LedgerProbe(database_url)
    try:
        subscription = await subscribe(analyzer, receiver.url)
        receiver.secret = subscription["secret"]
        sender = Sender(ingest.url)
        await sender.send_all(stream.stream(events=120, accounts=2, seed=3))
        total = len(sender.acknowledged)
        await wait_for_value(probe.size, partial(_at_least, total), timeout_s=60, what="every event applied")
        # Every open alert told (history is delivered once the analyzer has caught up).
        books = await wait_for_value(
            partial(read_books, database_url), lambda b: b.waiting == 0, what="the open alerts delivered"
        )
        wanted = set(books.deliveries)
        assert wanted, "the stream raises alerts, so there is something to deliver"

        failing = await wait_for_value(
            partial(deliveries, analyzer, subscription["id"]),
            partial(down_for_an_hour, expected=len(wanted)),
            timeout_s=60,
            interval_s=0.2,
            what="every delivery failing for a simulated hour",
        )
        assert receiver.deliveries() == []
        failed_attempts = [a for d in failing for a in d["attempts"]]
        assert all(a["status_code"] is None and a["error"] == "connection refused" for a in failed_attempts)

        receiver.up()  # the same port as before
        done = await wait_for_value(
            partial(deliveries, analyzer, subscription["id"]),
            all_delivered,
            timeout_s=60,
            interval_s=0.2,
            what="every delivery delivered",
        )
    finally:
        await probe.close()
        analyzer.stop()
        receiver.down()

    books = await read_books(database_url)
    result = reconcile(sender.acknowledged, books)
    per_message = receiver.per_message()
    simulated_h = (
        max(
            (datetime.fromisoformat(d["delivered_at"]) - datetime.fromisoformat(d["created_at"])).total_seconds()
            for d in done
        )
        * SCALE
        / HOUR
    )
    figures = report(
        Figures(
            f"webhook receiver down, a simulated hour ({database_url.split('+')[0]})",
            1,
            result.acknowledged,
            len(result.lost),
            len(result.doubled),
            deliveries=sum(per_message.values()),
            distinct=len(per_message),
            note=f"{len(failed_attempts)} attempts refused; delivered up to {simulated_h:.1f} simulated hours late",
        )
    )
    assert (figures.lost, figures.doubled) == (0, 0), result.summary()
    assert set(per_message) == wanted, "every alert change arrived"
    assert set(per_message.values()) == {1}, "and each exactly once"
    assert all(d.signed for d in receiver.deliveries())
    assert {d["webhook_id"] for d in done} == wanted


def _at_least(point: int, value: int) -> bool:
    return value >= point
