"""A long stream keeps the outbox, the webhook tables and the ledger flat: each is pruned after its retention.

The analyzer runs with retentions and a deduplication window of one second and prunes every 200 ms
(the defaults are 7 and 30 days, hourly), a webhook receiver subscribed to every alert. A stream of
3,000 events goes in, in five parts. After each part the outbox, delivery and attempt tables come
back to empty (everything in them was sent and outlived its retention), and the ledger of processed
event ids holds less than one part, however many events the stream has sent so far. The largest
sizes seen while each part was applied are printed: the figures of the soak.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import stream
from services.analyzer.db.models import OutboxMessage, ProcessedEvent
from services.analyzer.db.webhook_models import Delivery, DeliveryAttempt
from shared.settings import Topics
from tests.analyzer.helpers import sessions_for
from tests.e2e.test_pipeline import applied
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value
from tests.reliability.conftest import analyzer_process, subscribe
from tests.reliability.receiver import WebhookReceiver
from tests.reliability.sender import Sender

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

PARTS = 5
EVENTS = 3000
SHORT = {
    "ANALYZER_OUTBOX_RETENTION_S": "1",
    "WEBHOOK_DELIVERY_RETENTION_S": "1",
    "ANALYZER_DEDUP_WINDOW_S": "1",
    "ANALYZER_PRUNE_INTERVAL_S": "0.2",
}


@dataclass
class Sizes:
    """Rows in the tables that retention bounds, and in the ledger."""

    outbox: int
    deliveries: int
    attempts: int
    ledger: int
    written: int  # the highest outbox id (SQLite reuses ids once the table is empty)


async def sizes(url: str) -> Sizes:
    async with sessions_for(url) as sessions, sessions() as session:

        async def count(table: type[object]) -> int:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)

        written = int(await session.scalar(select(func.max(OutboxMessage.id))) or 0)
        return Sizes(
            await count(OutboxMessage),
            await count(Delivery),
            await count(DeliveryAttempt),
            await count(ProcessedEvent),
            written,
        )


def is_empty(now: Sizes) -> bool:
    """Nothing left in the tables retention bounds."""
    return now.outbox == 0 and now.deliveries == 0 and now.attempts == 0


async def test_the_outbox_and_webhook_tables_stay_flat_over_a_long_stream(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, database_url: str, tmp_path: Path
) -> None:
    analyzer = analyzer_process(kafka_bootstrap, topics, database_url, tmp_path, "soak", **SHORT)
    receiver = WebhookReceiver()
    receiver.up()
    analyzer.start()
    peaks: list[Sizes] = []
    settled: list[Sizes] = []
    try:
        await subscribe(analyzer, receiver.url)
        events = stream.stream(events=EVENTS, accounts=40, seed=5)
        sender = Sender(ingest.url)
        size = -(-len(events) // PARTS)
        for part in range(PARTS):
            chunk = events[part * size : (part + 1) * size]
            sending = asyncio.create_task(sender.send_all(chunk))
            peak = Sizes(0, 0, 0, 0, 0)
            deadline = asyncio.get_running_loop().time() + 120
            while True:  # sample while the part is sent and applied
                now = await sizes(database_url)
                peak = Sizes(*(max(a, b) for a, b in zip(vars(peak).values(), vars(now).values(), strict=True)))
                if sending.done() and await applied(analyzer) >= len(sender.acknowledged):
                    break
                assert asyncio.get_running_loop().time() < deadline, f"part {part + 1} not applied: {now}"
                await asyncio.sleep(0.1)
            await sending
            settled.append(
                await wait_for_value(
                    lambda: sizes(database_url),
                    lambda now: is_empty(now) and now.ledger < size,
                    timeout_s=60,
                    what=f"part {part + 1} pruned",
                )
            )
            peaks.append(peak)
        assert not sender.refused, sender.refused
    finally:
        analyzer.stop()
        receiver.down()
    for n, peak in enumerate(peaks, start=1):
        tables = f"outbox {peak.outbox} (highest id {peak.written}), deliveries {peak.deliveries}"
        print(f"part {n}: peak {tables}, attempts {peak.attempts}, ledger {peak.ledger}")
    assert receiver.deliveries(), "the stream raised alerts, so deliveries were made (and pruned)"
    # Every part wrote outbox rows (and webhook deliveries after the first), and each time they were
    # all pruned again: nothing accumulates from one part to the next.
    assert all(p.outbox > 0 for p in peaks), peaks
    assert all(p.deliveries > 0 for p in peaks[1:]), peaks
    # The ledger keeps each id for the window only: it never holds the whole stream.
    assert max(p.ledger for p in peaks) < 2 * size, peaks
