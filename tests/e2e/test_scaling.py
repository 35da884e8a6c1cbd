"""Three analyzer processes in one consumer group on one PostgreSQL end with one process's state.

Members join, leave cleanly (SIGTERM) and crash (SIGKILL) while a stream drains; the partitions move
between them. What they build together must equal, row for row, what one uninterrupted process
builds from the same topic in another group on another database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bench import stream
from services.analyzer.db.models import AccountModel, AlertRow, ProcessedEvent, Response, Stakeholder
from shared.kafka import DurablePublisher, Record
from shared.settings import Topics
from tests.e2e.test_pipeline import analyzer_process, service_env
from tests.factories import create_analyzer_settings
from tests.harness.databases import create_database
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value

pytestmark = pytest.mark.e2e

EVENTS = 12_000
ACCOUNTS = 150


async def processed(url: str) -> int:
    """Events the database holds in its ledger (every member writes the one database)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)
    finally:
        await engine.dispose()


async def state(url: str) -> dict[str, Any]:
    """Everything the events decide, without wall-clock stamps: figures, people, answers, alerts."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            models = {
                row.account_id: (row.as_of, _round(row.account_mean), _round(row.divergence), _round(row.nps))
                for row in await conn.execute(select(AccountModel))
            }
            documents = {
                row.account_id: json.dumps(row.document, sort_keys=True)
                for row in await conn.execute(select(AccountModel))
            }
            people = sorted(
                (r.account_id, r.stakeholder_id, r.role, r.side) for r in await conn.execute(select(Stakeholder))
            )
            answers = sorted((r.event_id, r.is_current) for r in await conn.execute(select(Response)))
            alerts = sorted(
                # How often an alert was published depends on batch boundaries; what it says does not.
                (
                    r.alert_id,
                    r.type,
                    r.key or "",
                    r.severity,
                    r.status,
                    r.active,
                    str(r.opened_as_of),
                    str(r.closed_as_of),
                )
                for r in await conn.execute(select(AlertRow))
            )
            ledger = sorted((r.event_id, r.outcome) for r in await conn.execute(select(ProcessedEvent)))
    finally:
        await engine.dispose()
    return {
        "models": models,
        "documents": documents,
        "people": people,
        "answers": answers,
        "alerts": alerts,
        "ledger": ledger,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 9)


async def fill(bootstrap: str, topics: Topics, events: list[dict[str, Any]]) -> None:
    kafka = DurablePublisher(create_analyzer_settings(bootstrap, topics, "sqlite://"), client_id="stream")
    try:
        records = [Record(topics.events, e["account_id"], json.dumps(e).encode()) for e in events]
        for start in range(0, len(records), 2000):
            await kafka.publish(records[start : start + 2000], timeout_s=60)
    finally:
        await kafka.close()


async def until(url: str, done: Callable[[int], bool], what: str) -> None:
    await wait_for_value(lambda: processed(url), done, timeout_s=240, interval_s=0.2, what=what)


@pytest.fixture
def two_databases(pg_admin_url: str, tmp_path: Path) -> tuple[str, str]:
    """Two fresh PostgreSQL databases: the reference run's and the members' shared one."""
    return (
        create_database("postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url),
        create_database("postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url),
    )


async def test_three_members_joining_and_leaving_end_with_one_process_state(
    kafka_bootstrap: str,
    topics: Topics,
    two_databases: tuple[str, str],
    tmp_path: Path,
) -> None:
    events = stream.stream(events=EVENTS, accounts=ACCOUNTS)
    await fill(kafka_bootstrap, topics, events)
    total = len(events)
    reference_url, shared_url = two_databases
    quiet = {"ANALYZER_SWEEP_INTERVAL_S": "0", "WEBHOOK_DISPATCHER_ENABLED": "false"}

    reference = analyzer_process(kafka_bootstrap, topics, reference_url, tmp_path, "reference", **quiet)
    reference.start()
    try:
        await until(reference_url, lambda n: n == total, "the reference run")
    finally:
        reference.stop()

    def member(name: str) -> ServiceProcess:
        env = service_env(
            kafka_bootstrap,
            topics,
            DATABASE_URL=shared_url,
            ANALYZER_GROUP_ID="scaled",
            ANALYZER_MAX_BATCH_RECORDS="200",
            **quiet,
        )
        return ServiceProcess("services.analyzer", env, tmp_path / f"analyzer-{name}.log")

    first, second, third = member("first"), member("second"), member("third")
    first.start()
    try:
        await until(shared_url, lambda n: n >= total // 10, "the first member under way")
        second.start()
        await until(shared_url, lambda n: n >= total // 4, "two members under way")
        third.start()
        await until(shared_url, lambda n: n >= total // 2, "three members under way")
        third.kill()  # a crash: its batch in flight is rolled back and replayed by another member
        await until(shared_url, lambda n: n >= 2 * total // 3, "two members after the crash")
        second.stop()  # a clean leave: its partitions are revoked after its batch commits
        third.start()
        await until(shared_url, lambda n: n == total, "the stream drained by the members")
    finally:
        for process in (first, second, third):
            process.stop()

    expected, actual = await state(reference_url), await state(shared_url)
    for part in expected:
        assert actual[part] == expected[part], part
    assert len(expected["ledger"]) == total
    assert any(expected["alerts"]), "the stream raises alerts, so the comparison covers them"
