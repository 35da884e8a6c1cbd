"""The analyzer killed with SIGKILL at seeded random points of one stream, twenty times, restarted each time.

Two analyzers read the same topic in groups of their own, one on PostgreSQL and one on SQLite, and
each is killed twenty times while a third, never interrupted, builds the reference (the kills of one
overlap the other's restart, so both back ends cost the time of one). At the end every event ingest
acknowledged is applied exactly once by each, each one's state equals the reference's row for row,
and every alert change reached its webhook receiver. Delivery is at least once with a stable
``webhook-id`` (docs/webhooks.md): a kill between the receiver's 2xx and the analyzer's bookkeeping
resends the same message, so an id may arrive twice; what must hold is that every alert change of
the uninterrupted run arrives and no other message does.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bench import stream
from shared.settings import Topics
from tests.e2e.test_scaling import state
from tests.harness.databases import create_database
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value, wait_until
from tests.reliability.books import LedgerProbe, read_books, reconcile
from tests.reliability.conftest import analyzer_process, subscribe
from tests.reliability.figures import Figures, report
from tests.reliability.receiver import WebhookReceiver
from tests.reliability.sender import Sender

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

SEED = 20
KILLS = 20
EVENTS = 1500
ACCOUNTS = 20
BATCH = "10"  # small batches, so that a kill lands inside a batch, between two, or during a webhook send


def kill_points(total: int, kills: int, seed: int) -> list[int]:
    """Ledger sizes at which to kill: seeded, distinct, spread over the stream, none at its very end."""
    rng = random.Random(seed)
    return sorted(rng.sample(range(10, total - 300), kills))


@dataclass
class Victim:
    """One analyzer that is killed again and again, with its database and webhook receiver."""

    backend: str
    url: str
    process: ServiceProcess
    receiver: WebhookReceiver
    subscription: dict[str, Any]
    kills: int = 0


async def kill_repeatedly(victim: Victim, points: list[int], total: int) -> None:
    """SIGKILL the analyzer as soon as its ledger reaches each point, and start it again at once."""
    probe = LedgerProbe(victim.url)
    try:
        for point in points:
            await wait_for_value(
                probe.size, partial(_at_least, point), timeout_s=90, what=f"{victim.backend} at {point}"
            )
            victim.process.kill()
            victim.kills += 1
            assert await probe.size() < total, "every kill must land before the end of the stream"
            # Same group, same database: it resumes from the last committed offsets.
            await asyncio.to_thread(victim.process.start)
        await wait_for_value(probe.size, lambda n: n == total, timeout_s=120, what=f"{victim.backend} drained")
    finally:
        await probe.close()


@pytest.fixture
def databases(pg_admin_url: str, tmp_path: Path) -> dict[str, str]:
    """A database for each analyzer that is killed, one per back end, and SQLite for the reference run."""
    return {
        "postgres": create_database("postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url),
        "sqlite": create_database("sqlite", tmp_path=tmp_path, pg_admin_url=None),
        "reference": create_database("sqlite", tmp_path=tmp_path, pg_admin_url=None),
    }


@pytest.mark.timeout(600)
async def test_twenty_sigkills_lose_nothing_double_nothing_and_deliver_every_alert_change(
    kafka_bootstrap: str,
    topics: Topics,
    ingest: ServiceProcess,
    databases: dict[str, str],
    tmp_path: Path,
) -> None:
    events = stream.stream(events=EVENTS, accounts=ACCOUNTS, seed=SEED)
    reference_url = databases["reference"]
    victims: list[Victim] = []
    reference = analyzer_process(kafka_bootstrap, topics, reference_url, tmp_path, "reference")
    try:
        for backend in ("postgres", "sqlite"):
            url = databases[backend]
            process = analyzer_process(
                kafka_bootstrap, topics, url, tmp_path, f"killed-{backend}", ANALYZER_MAX_BATCH_RECORDS=BATCH
            )
            receiver = WebhookReceiver()
            receiver.up()
            process.start()
            subscription = await subscribe(process, receiver.url)
            receiver.secret = subscription["secret"]
            victims.append(Victim(backend, url, process, receiver, subscription))
        reference.start()

        sender = Sender(ingest.url)
        await sender.send_all(events)
        assert not sender.refused, sender.refused
        total = len(sender.acknowledged)
        assert total == len(events)

        await asyncio.gather(
            *(kill_repeatedly(v, kill_points(total, KILLS, SEED + n), total) for n, v in enumerate(victims))
        )
        reference_probe = LedgerProbe(reference_url)
        try:
            await wait_for_value(reference_probe.size, lambda n: n == total, timeout_s=120, what="the reference run")
        finally:
            await reference_probe.close()
        reference_books = await wait_for_value(
            partial(read_books, reference_url), lambda b: b.waiting == 0, what="the reference run caught up"
        )
        assert reference_books.told, "the stream raises alerts, so there are webhook deliveries to count"
        for victim in victims:
            await wait_until(
                partial(_received_all, victim),
                timeout_s=60,
                what=f"every committed delivery at the {victim.backend} receiver",
            )
    finally:
        reference.stop()
        for victim in victims:
            victim.process.stop()
            victim.receiver.down()

    expected_state = await state(reference_url)
    for victim in victims:
        actual_state = await state(victim.url)
        for part in expected_state:
            assert actual_state[part] == expected_state[part], f"{victim.backend}: {part} differs from the reference"
        books = await read_books(victim.url)
        wanted = set(books.deliveries)
        result = reconcile(sender.acknowledged, books)
        deliveries = victim.receiver.deliveries()
        per_message = victim.receiver.per_message()
        figures = report(
            Figures(
                f"analyzer SIGKILL ({victim.backend})",
                victim.kills,
                result.acknowledged,
                len(result.lost),
                len(result.doubled),
                deliveries=len(deliveries),
                distinct=len(per_message),
                note=f"{len(wanted)} deliveries committed; {len(deliveries) - len(per_message)} resent, same id",
            )
        )
        assert (figures.lost, figures.doubled) == (0, 0), result.summary()
        assert set(per_message) == wanted, "every committed delivery arrived, and nothing else"
        assert set(books.deliveries.values()) == {"delivered"}
        # Subscribers end with the view of an uninterrupted run: each alert's last word is the same.
        assert books.told == reference_books.told
        assert books.last_delivered == {a: s for a, s in books.told.items() if s is not None}
        assert all(d.signed for d in deliveries), "every delivery verifies with the subscription's secret"
        assert victim.kills >= KILLS


async def _received_all(victim: Victim) -> bool:
    books = await read_books(victim.url)
    return books.waiting == 0 and set(books.deliveries) <= set(victim.receiver.per_message())


def _at_least(point: int, size: int) -> bool:
    return size >= point
