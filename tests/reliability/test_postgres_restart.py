"""PostgreSQL stopped under the analyzer mid-stream, once cleanly and once as a crash, then started again.

The cluster is private to this test (``tests/harness/postgres.py``). While it is down the analyzer
waits: ``/readyz`` answers 503 naming the database as the check that fails, while Kafka and the
consumer stay up, and the consumer retries its batch instead of skipping it. Ingest keeps accepting
meanwhile. Once the server is back the analyzer reconnects by itself and every acknowledged event is
applied exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Topics
from tests.harness.databases import create_database
from tests.harness.postgres import PostgresCluster, start_cluster
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value
from tests.reliability.books import LedgerProbe, read_books, reconcile
from tests.reliability.conftest import analyzer_process
from tests.reliability.figures import Figures, report
from tests.reliability.sender import Sender, stream_until

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

WAITING_FOR_THE_DATABASE = {"database": False, "kafka": True, "consumer": True}


@pytest.fixture
def private_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test alone, since it is stopped under the analyzer; durable, since it is also
    crashed, and a commit must then survive as it does on a production server."""
    cluster = start_cluster(durable=True)
    yield cluster
    with contextlib.suppress(RuntimeError):  # already stopped by a failed test; its files are removed anyway
        cluster.stop()


async def readiness(analyzer: ServiceProcess) -> tuple[int, dict[str, Any]]:
    """``/readyz``: its status and body."""
    async with httpx.AsyncClient(base_url=analyzer.url, timeout=10) as client:
        response = await client.get("/readyz")
    return response.status_code, response.json()


async def retries(analyzer: ServiceProcess) -> int:
    """The consumer's batch retries so far (``analyzer_events_retries`` on ``/metrics``)."""
    async with httpx.AsyncClient(base_url=analyzer.url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    match = re.search(r"^analyzer_events_retries (\S+)$", text, re.MULTILINE)
    assert match is not None
    return int(float(match.group(1)))


@pytest.mark.timeout(240)
async def test_postgres_restarted_mid_stream_is_waited_out_and_nothing_is_lost(
    kafka_bootstrap: str,
    topics: Topics,
    ingest: ServiceProcess,
    private_postgres: PostgresCluster,
    tmp_path: Path,
) -> None:
    cluster = private_postgres
    url = await asyncio.to_thread(create_database, "postgres", tmp_path=tmp_path, pg_admin_url=cluster.url)
    analyzer = analyzer_process(kafka_bootstrap, topics, url, tmp_path, "pg-restart", ANALYZER_MAX_BATCH_RECORDS="20")
    analyzer.start()
    sender = Sender(ingest.url)
    stop = asyncio.Event()
    streaming = asyncio.create_task(stream_until(sender, stop, batch=5))
    probe = LedgerProbe(url)
    restarts = 0
    waiting: list[dict[str, Any]] = []
    try:
        for mode in ("fast", "immediate"):  # every session ended cleanly, then a crash of the server
            held = await probe.size()
            await wait_for_value(probe.size, partial(_at_least, held + 50), timeout_s=60, what="the stream applied")
            before = await retries(analyzer)
            await asyncio.to_thread(cluster.stop_server, mode)
            restarts += 1
            # It says what it waits for: the database, while Kafka and the consumer are fine.
            _, body = await wait_for_value(
                partial(readiness, analyzer),
                lambda r: r[0] == 503 and r[1]["detail"]["checks"] == WAITING_FOR_THE_DATABASE,
                timeout_s=30,
                what="/readyz to answer 503 naming the database",
            )
            waiting.append(body)
            await wait_for_value(
                partial(retries, analyzer), partial(_at_least, before + 2), timeout_s=30, what="the batch retried"
            )
            accepted = len(sender.acknowledged)
            await wait_for_value(
                lambda: _value(len(sender.acknowledged)),
                partial(_at_least, accepted + 20),
                timeout_s=30,
                what="ingest accepting while the database is down",
            )
            await asyncio.to_thread(cluster.start_server)
            await wait_for_value(
                partial(readiness, analyzer), lambda r: r[0] == 200, timeout_s=60, what="/readyz ready again"
            )
        stop.set()
        await asyncio.wait_for(streaming, 60)
        total = len(sender.acknowledged)
        await wait_for_value(probe.size, partial(_at_least, total), timeout_s=120, what="every event applied")
    finally:
        stop.set()
        if not streaming.done():
            streaming.cancel()
        await probe.close()
        analyzer.stop()

    result = reconcile(sender.acknowledged, await read_books(url))
    figures = report(
        Figures(
            "PostgreSQL restart (fast, immediate)",
            restarts,
            result.acknowledged,
            len(result.lost),
            len(result.doubled),
            note=f"/readyz while down: {waiting[0]['detail']['checks']}",
        )
    )
    assert not sender.refused, sender.refused
    assert (figures.lost, figures.doubled) == (0, 0), result.summary()


def _at_least(point: int, value: int) -> bool:
    return value >= point


async def _value(value: int) -> int:
    return value
