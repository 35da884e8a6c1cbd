"""A restored backup resumes exactly where its state stops: the events accepted after it are applied.

The operator's scenario (docs/operations.md, "Backup and restore"): the stack runs, an account is
posted and applied, the database is backed up while the analyzer runs (SQLite's online backup, or
``pg_dump``), a second account is posted and applied, the analyzer is stopped, the backup restored and
the analyzer started again. The analyzer reads each partition from the position its database
recorded with its state, not from Kafka's committed offsets (which are past the backup), so the
second account's events are applied again into the restored state: every event applied exactly once
in the end, the first account unchanged.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from services.analyzer.db.models import ConsumerPosition, ProcessedEvent
from shared.settings import Topics
from tests.analyzer.helpers import sessions_for
from tests.e2e.test_pipeline import applied, post_batch
from tests.factories import ANALYZER_KEY, auth
from tests.harness.databases import database_text
from tests.harness.kafka import read_all
from tests.harness.postgres import find_bindir
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value
from tests.reliability.conftest import analyzer_process

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]


def account_events(account_id: str, answers: int) -> list[dict[str, Any]]:
    """An account, three people and ``answers`` NPS answers spread over them."""
    people = [("proc", "procurement"), ("it", "it"), ("fin", "finance")]
    events: list[dict[str, Any]] = [
        {"type": "account", "account_id": account_id, "occurred_at": "2026-09-01T09:00:00Z", "name": account_id}
    ]
    events += [
        {
            "type": "stakeholder",
            "account_id": account_id,
            "stakeholder_id": f"{who}@{account_id}.example",
            "role": role,
            "occurred_at": "2026-09-01T09:00:00Z",
        }
        for who, role in people
    ]
    events += [
        {
            "type": "survey_response",
            "account_id": account_id,
            "stakeholder_id": f"{people[i % 3][0]}@{account_id}.example",
            "metric": "nps",
            "score": (3 + i) % 11,
            "occurred_at": f"2026-09-{2 + i // 3:02d}T10:{i % 60:02d}:00Z",
            "event_id": f"{account_id}-answer-{i}",
        }
        for i in range(answers)
    ]
    return events


async def account(analyzer: ServiceProcess, account_id: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY), timeout=10) as client:
        return await client.get(f"/v1/accounts/{account_id}")


async def ledger(url: str) -> tuple[int, int, dict[int, int]]:
    """Processed events, distinct event ids among them, and the recorded positions."""
    async with sessions_for(url) as sessions, sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ProcessedEvent))
        distinct = await session.scalar(select(func.count(func.distinct(ProcessedEvent.event_id))))
        rows = await session.execute(select(ConsumerPosition.partition, ConsumerPosition.next_offset))
        positions: dict[int, int] = {}
        for partition, offset in rows:
            positions[partition] = offset
        return int(count or 0), int(distinct or 0), positions


def back_up(url: str, into: Path) -> None:
    """What the runbook says: SQLite's online backup, or ``pg_dump`` (plain SQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        with sqlite3.connect(parsed.database) as source, sqlite3.connect(into) as target:
            source.backup(target)
        return
    subprocess.run(
        [str(find_bindir() / "pg_dump"), "--clean", "--if-exists", "--no-owner", "-f", str(into), _libpq(url)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def restore(url: str, backup: Path) -> None:
    """Put the backup back in place of the database (the analyzer is stopped)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        live = Path(parsed.database)
        for leftover in (live.with_name(live.name + "-wal"), live.with_name(live.name + "-shm")):
            leftover.unlink(missing_ok=True)
        live.write_bytes(backup.read_bytes())
        return
    subprocess.run(
        [str(find_bindir() / "psql"), "-v", "ON_ERROR_STOP=1", "-q", "-f", str(backup), _libpq(url)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (no driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_a_restored_backup_applies_the_events_accepted_after_it(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, database_url: str, tmp_path: Path
) -> None:
    first, second = account_events("before-backup", 24), account_events("after-backup", 30)
    analyzer = analyzer_process(kafka_bootstrap, topics, database_url, tmp_path, "restore")
    analyzer.start()
    try:
        assert (await post_batch(ingest, first)).status_code == 202
        await wait_for_value(partial_applied(analyzer), lambda n: n >= len(first), timeout_s=60, what="first account")
        kept = (await account(analyzer, "before-backup")).json()
        backup = tmp_path / "backup.db"
        await asyncio.to_thread(back_up, database_url, backup)

        assert (await post_batch(ingest, second)).status_code == 202
        total = len(first) + len(second)
        await wait_for_value(partial_applied(analyzer), lambda n: n >= total, timeout_s=60, what="second account")
        assert (await account(analyzer, "after-backup")).status_code == 200
        _, _, live_positions = await ledger(database_url)
    finally:
        analyzer.stop()

    await asyncio.to_thread(restore, database_url, backup)
    processed, _, restored_positions = await ledger(database_url)
    assert processed == len(first), "the restored database holds the state of the backup"
    assert sum(restored_positions.values()) < sum(live_positions.values())

    analyzer.start()  # the same consumer group: Kafka's committed offsets are past the backup
    try:
        await wait_for_value(
            partial_applied(analyzer), lambda n: n >= len(second), timeout_s=60, what="the events after the backup"
        )
        after = await wait_for_value(
            lambda: account(analyzer, "after-backup"), lambda r: r.status_code == 200, timeout_s=30, what="account"
        )
        assert after.json()["account_id"] == "after-backup"
        assert (await account(analyzer, "before-backup")).json() == kept
    finally:
        analyzer.stop()
    processed, distinct, positions = await ledger(database_url)
    assert processed == distinct == len(first) + len(second), "every event applied exactly once"
    assert positions == live_positions, "the restored state reached the same positions as the live one"


def partial_applied(analyzer: ServiceProcess) -> Any:
    """The applied-events counter of the analyzer's current process."""

    async def probe() -> int:
        return await applied(analyzer)

    return probe


async def test_a_database_from_before_positions_resumes_from_kafkas_offsets_and_records_them(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, sqlite_url: str, tmp_path: Path
) -> None:
    """An upgrade: the database applied events but recorded no positions. The analyzer reads from the
    group's committed offsets (nothing replayed, nothing skipped) and records them as its positions."""
    first, second = account_events("upgraded", 12), account_events("after-upgrade", 15)
    analyzer = analyzer_process(kafka_bootstrap, topics, sqlite_url, tmp_path, "upgrade")
    analyzer.start()
    try:
        assert (await post_batch(ingest, first)).status_code == 202
        await wait_for_value(partial_applied(analyzer), lambda n: n >= len(first), timeout_s=60, what="first account")
    finally:
        analyzer.stop()
    async with sessions_for(sqlite_url) as sessions, sessions() as session, session.begin():
        await session.execute(delete(ConsumerPosition))  # as the schema before positions left it

    analyzer.start()
    try:
        assert (await post_batch(ingest, second)).status_code == 202
        await wait_for_value(
            partial_applied(analyzer), lambda n: n >= len(second), timeout_s=60, what="the events after the upgrade"
        )
        metrics = await metric_text(analyzer)
    finally:
        analyzer.stop()
    assert "analyzer_events_duplicates 0.0" in metrics, "nothing before the committed offsets was read again"
    processed, distinct, positions = await ledger(sqlite_url)
    assert processed == distinct == len(first) + len(second)
    assert sum(positions.values()) == len(first) + len(second), "every partition's position recorded"


async def metric_text(analyzer: ServiceProcess) -> str:
    async with httpx.AsyncClient(base_url=analyzer.url, timeout=10) as client:
        return (await client.get("/metrics")).text


async def test_a_backup_from_before_an_erasure_is_erased_again_when_restored(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, database_url: str, tmp_path: Path
) -> None:
    """The erasure outlives the database: its record on the erasures topic is applied to the restored one."""
    events = account_events("erase-restore", 12)
    person = "fin@erase-restore.example"
    analyzer = analyzer_process(kafka_bootstrap, topics, database_url, tmp_path, "erase-restore")
    analyzer.start()
    try:
        assert (await post_batch(ingest, events)).status_code == 202
        await wait_for_value(partial_applied(analyzer), lambda n: n >= len(events), timeout_s=60, what="the account")
        backup = tmp_path / "before-erasure.db"
        await asyncio.to_thread(back_up, database_url, backup)
        async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY), timeout=30) as client:
            erased = await client.delete(f"/v1/stakeholders/{person}")
        assert erased.status_code == 200, erased.text
        assert erased.json()["counts"]["answers"] == 4
        [record] = await read_all(kafka_bootstrap, topics.erasures, expect=1)
        assert person not in json.dumps(record)
    finally:
        analyzer.stop()

    await asyncio.to_thread(restore, database_url, backup)
    assert person in await database_text(database_url), "the backup holds the person"

    analyzer.start()
    try:
        view = await wait_for_value(
            lambda: account(analyzer, "erase-restore"),
            lambda r: r.status_code == 200 and person not in r.text,
            timeout_s=60,
            what="the person erased again",
        )
        assert len(view.json()["stakeholders"]) == 2
    finally:
        analyzer.stop()
    assert person not in await database_text(database_url)
