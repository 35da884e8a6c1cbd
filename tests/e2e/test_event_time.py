"""Alerts in event time through the live pipeline: arrival order, backfills and the rebuild.

- The worked example's two accounts posted to ingest in three orders (time order, grouped by
  respondent, shuffled) end with identical alert lists.
- A year of history for 50 accounts, posted as a backfill, reaches a webhook subscriber only as the
  alerts still open at its end, each delivered once, with its original as-of time; the alerts topic
  carries every historical change marked ``"news": false``.
- ``python -m services.analyzer rebuild`` replays the topic into a fresh database that ends with the
  same accounts, positions and alerts as the live one, and sends no webhook.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Topics
from tests.analyzer.model import story
from tests.analyzer.test_arrival_order import by_respondent, story_events, time_order
from tests.analyzer.webhooks.receiver import Receiver, running_receiver
from tests.e2e.test_pipeline import analyzer_process, applied, post_batch, service_env
from tests.factories import ANALYZER_KEY, auth
from tests.harness.databases import create_database
from tests.harness.kafka import count_records, create_topics, read_all, unique_topics
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value, wait_until

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
# The story runs past today's date; both services accept event times up to a year ahead here.
FUTURE = {
    "EVENT_TIME_MAX_FUTURE_S": str(366 * 86_400),
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    "INGEST_RATE_LIMIT_PER_S": "100000",  # a backfill posts a year at once
    "INGEST_RATE_LIMIT_BURST": "100000",
}
Body = dict[str, Any]


async def alerts_of(analyzer: ServiceProcess) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY)) as client:
        response = await client.get("/v1/alerts", params={"limit": 500})
        assert response.status_code == 200, response.text
        alerts: list[dict[str, Any]] = response.json()
        return alerts


def decided_by_events(alerts: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What the events decide of each alert (no wall-clock stamps such as ``created_at``)."""
    return sorted(
        (
            a["alert_id"],
            a["account_id"],
            a["type"],
            a["severity"],
            a["status"],
            a["opened_as_of"],
            a.get("resolved_as_of"),
            a["as_of"],
            a["summary"],
            json.dumps(a["metrics"], sort_keys=True),
            json.dumps(a["positions"], sort_keys=True),
            a["evidence"],
        )
        for a in alerts
    )


async def subscribe(analyzer: ServiceProcess, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY)) as client:
        response = await client.post(
            "/v1/subscriptions",
            json={"url": receiver.url, "event_types": ["alert.opened", "alert.updated", "alert.resolved"]},
        )
        assert response.status_code == 201, response.text


async def post_in_order(ingest: ServiceProcess, events: list[Body], size: int = 100) -> None:
    for start in range(0, len(events), size):
        response = await post_batch(ingest, events[start : start + size])
        assert response.status_code == 202, response.text


class Stack:
    """Ingest and an analyzer on their own topics and database."""

    def __init__(self, bootstrap: str, topics: Topics, url: str, tmp_path: Path, name: str, **extra: str) -> None:
        env = service_env(bootstrap, topics, **FUTURE, **extra)
        self.ingest = ServiceProcess("services.ingest", env, tmp_path / f"ingest-{name}.log")
        self.analyzer = analyzer_process(bootstrap, topics, url, tmp_path, name, **FUTURE, **extra)

    def __enter__(self) -> Stack:
        self.ingest.start()
        self.analyzer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.analyzer.stop()
        self.ingest.stop()


async def applied_all(analyzer: ServiceProcess, count: int) -> None:
    await wait_for_value(partial(applied, analyzer), lambda n: n >= count, timeout_s=180, what=f"{count} events")


async def test_three_arrival_orders_give_identical_alert_lists(kafka_bootstrap: str, tmp_path: Path) -> None:
    events = story_events()
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    results = []
    for name, order in (("time", time_order(events)), ("respondent", by_respondent(events)), ("shuffled", shuffled)):
        topics = unique_topics()
        await create_topics(kafka_bootstrap, topics)
        url = await asyncio.to_thread(create_database, "sqlite", tmp_path=tmp_path, pg_admin_url=None)
        with Stack(kafka_bootstrap, topics, url, tmp_path, name) as stack:
            await post_in_order(stack.ingest, order)
            await applied_all(stack.analyzer, len(order))
            results.append(decided_by_events(await alerts_of(stack.analyzer)))
    time_alerts, respondent_alerts, shuffled_alerts = results
    assert {a[2] for a in time_alerts} >= {"stakeholder_divergence", "masked_by_average", "perception_gap"}
    assert respondent_alerts == time_alerts
    assert shuffled_alerts == time_alerts


def backfill_year(accounts: int, *, ends: date) -> list[Body]:
    """A year of history for ``accounts`` accounts (half divided, half aligned), ending on ``ends``."""
    divided = [e for e in story_events() if e["account_id"] == "divided-co"]
    aligned = [e for e in story_events() if e["account_id"] == "aligned-co"]
    last = datetime.combine(story.RENEWAL, datetime.min.time(), UTC) - timedelta(days=1)
    shift = datetime.combine(ends, datetime.min.time(), UTC) - last
    out: list[Body] = []
    for n in range(accounts):
        account_id = f"backfill-{n:02d}"
        for event in divided if n % 2 == 0 else aligned:
            at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
            if at > last:
                continue
            body = {**event, "account_id": account_id, "occurred_at": (at + shift).isoformat()}
            if "event_id" in body:
                body["event_id"] = f"{account_id}-{event['event_id']}"
            if "renewal_date" in body:
                body["renewal_date"] = (story.RENEWAL + timedelta(days=shift.days)).isoformat()
            out.append(body)
    return out


async def test_a_backfilled_year_delivers_only_the_alerts_open_at_its_end_once(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    events = by_respondent(backfill_year(50, ends=date.today() - timedelta(days=20)))
    url = await asyncio.to_thread(create_database, "sqlite", tmp_path=tmp_path, pg_admin_url=None)
    async with running_receiver() as receiver:
        with Stack(kafka_bootstrap, topics, url, tmp_path, "backfill") as stack:
            await subscribe(stack.analyzer, receiver)
            await post_in_order(stack.ingest, events, size=500)
            await applied_all(stack.analyzer, len(events))
            alerts = await alerts_of(stack.analyzer)
            still_open = {a["alert_id"] for a in alerts if a["status"] in ("open", "acknowledged")}
            assert still_open, "a year of divided accounts leaves alerts open"
            assert len(alerts) > len(still_open), "and alerts that opened and resolved within the year"

            def delivered() -> set[str]:
                return {json.loads(r.body)["data"]["alert_id"] for r in receiver.requests}

            async def all_open_delivered() -> bool:
                return delivered() >= still_open

            await wait_until(all_open_delivered, timeout_s=60, what="the open alerts delivered after catching up")
            # Nothing else is on its way: every delivery the analyzer queued has been attempted.
            async with httpx.AsyncClient(base_url=stack.analyzer.url, headers=auth(ANALYZER_KEY)) as client:
                subs = (await client.get("/v1/subscriptions")).json()
                queued = await client.get(f"/v1/subscriptions/{subs[0]['id']}/deliveries", params={"limit": 500})
            assert len(queued.json()["deliveries"]) == len(still_open)
            async with httpx.AsyncClient(base_url=stack.analyzer.url) as client:
                metrics = (await client.get("/metrics")).text
            counted = {
                kind: float(value)
                for kind, value in re.findall(r'^analyzer_alert_changes\{kind="(\w+)"\} (\S+)$', metrics, re.MULTILINE)
            }
            assert counted["news"] == 0, "history is not counted as news"
            assert counted["history"] >= len(alerts)
            assert counted["backfilled"] == len(still_open)

    bodies = [json.loads(r.body) for r in receiver.requests]
    per_alert = Counter(b["data"]["alert_id"] for b in bodies)
    assert set(per_alert) == still_open
    assert set(per_alert.values()) == {1}, "each open alert delivered exactly once"
    assert {b["type"] for b in bodies} == {"alert.opened"}
    assert all(b["data"]["backfilled"] is True for b in bodies)
    horizon = datetime.now(UTC) - timedelta(days=3)
    assert all(datetime.fromisoformat(b["data"]["opened_as_of"]) < horizon for b in bodies), "original as-of times"

    async def alert_records() -> list[dict[str, Any]]:
        count = await count_records(kafka_bootstrap, topics.alerts)
        return [r["value"] for r in await read_all(kafka_bootstrap, topics.alerts, expect=count)]

    records = await wait_for_value(
        alert_records,
        lambda rs: {r["alert_id"] for r in rs if r["news"]} >= still_open,
        what="the catch-up deliveries on the alerts topic",
    )
    historical = [r for r in records if r["news"] is False]
    news = [r for r in records if r["news"] is True]
    assert historical, "history is published, marked as such"
    assert {r["alert_id"] for r in news} == still_open
    assert all(r.get("backfilled") for r in news)


async def test_rebuild_from_the_log_matches_the_live_database_and_sends_nothing(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    # The story up to its renewal: the split is still open then, so the live run delivers it, and the
    # rebuild must not deliver it again (after the renewal every alert of the story has resolved).
    events = [e for e in story_events() if e["occurred_at"] < "2027-01-01"]
    live_url = await asyncio.to_thread(create_database, "sqlite", tmp_path=tmp_path, pg_admin_url=None)
    async with running_receiver() as receiver:
        with Stack(kafka_bootstrap, topics, live_url, tmp_path, "live", ALERT_NEWS_HORIZON_S="3153600000") as stack:
            await subscribe(stack.analyzer, receiver)
            # Mostly in order, with a tenth of the events arriving late, in a second pass.
            late = set(random.Random(3).sample(range(len(events)), len(events) // 10))
            order = [e for i, e in enumerate(events) if i not in late] + [events[i] for i in sorted(late)]
            await post_in_order(stack.ingest, order)
            await applied_all(stack.analyzer, len(order))
            live_alerts = decided_by_events(await alerts_of(stack.analyzer))
            live_accounts = {a: await account_view(stack.analyzer, a) for a in ("divided-co", "aligned-co")}

            async def settled() -> bool:
                return len(receiver.requests) > 0

            await wait_until(settled, what="live deliveries")
        before = len(receiver.requests)

        fresh_url = await asyncio.to_thread(
            create_database, "sqlite", tmp_path=tmp_path, pg_admin_url=None, migrate=False
        )
        env = {**os.environ, **service_env(kafka_bootstrap, topics, DATABASE_URL=fresh_url, **FUTURE)}
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "services.analyzer", "rebuild"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert f"{len(events):,}/{len(events):,} records" in done.stderr, done.stderr

        again = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "services.analyzer", "rebuild"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert again.returncode == 1, again.stderr
        assert "already holds processed events" in again.stderr

        rebuilt = analyzer_process(kafka_bootstrap, topics, fresh_url, tmp_path, "rebuilt-api", **FUTURE)
        rebuilt.start()
        try:
            assert decided_by_events(await alerts_of(rebuilt)) == live_alerts
            for account_id, view in live_accounts.items():
                assert await account_view(rebuilt, account_id) == view, account_id
        finally:
            rebuilt.stop()
        assert len(receiver.requests) == before, "the rebuild sent no webhook"


async def account_view(analyzer: ServiceProcess, account_id: str) -> dict[str, Any]:
    """The account as the API shows it, figures rounded (the rebuild folds in its own batches)."""
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY)) as client:
        response = await client.get(f"/v1/accounts/{account_id}")
        assert response.status_code == 200, response.text
        view: dict[str, Any] = _rounded(response.json())
        return view


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value
