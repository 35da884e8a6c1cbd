"""A year of two B2B accounts through the real pipeline (docs/model.md, "worked example").

In the divided account procurement grows happier while IT sours and the account NPS stays flat or
rises; the divergence alerts must fire months before the renewal. The aligned account, surveyed
the same way, must stay silent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Topics
from tests.analyzer.model import story
from tests.e2e.test_pipeline import analyzer_process, applied, post_batch, service_env
from tests.factories import ANALYZER_KEY, auth
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value

pytestmark = pytest.mark.e2e
DIVERGENCE_TYPES = {"stakeholder_divergence", "divergence_widening", "masked_by_average"}
# The story runs up to a renewal that may still lie ahead of today's clock: both services accept
# event times up to a year ahead here (the default window stops one day ahead).
FUTURE = {"EVENT_TIME_MAX_FUTURE_S": str(366 * 86_400)}


@pytest.fixture
def ingest(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[ServiceProcess]:
    process = ServiceProcess("services.ingest", service_env(kafka_bootstrap, topics, **FUTURE), tmp_path / "ingest.log")
    process.start()
    yield process
    process.stop()


def canonical(account_id: str, events: list[story.Event]) -> list[dict[str, Any]]:
    """The story as the events a customer would post: directory first, then answers and moments."""
    out: list[dict[str, Any]] = [
        {
            "type": "account",
            "account_id": account_id,
            "occurred_at": "2026-01-01T00:00:00Z",
            "renewal_date": story.RENEWAL.isoformat(),
            "segment": "enterprise",
        },
    ]
    for person, info in story.PEOPLE.items():
        out.append(
            {
                "type": "stakeholder",
                "account_id": account_id,
                "stakeholder_id": person,
                "occurred_at": "2026-01-01T00:00:00Z",
                "role": info.role,
                "side": info.side,
                "influence": info.influence,
            },
        )
    for event in events:
        at = event.at.isoformat()
        if event.kind == "answer":
            body: dict[str, Any] = {
                "type": "survey_response",
                "event_id": f"{account_id}-{event.event_id}",
                "account_id": account_id,
                "stakeholder_id": event.stakeholder_id,
                "occurred_at": at,
                "metric": event.metric,
                "score": event.score,
            }
            if event.dimension:
                body["dimension"] = event.dimension
            out.append(body)
        elif event.kind in ("renewal_approach", "renewal_outcome"):
            out.append(
                {
                    "type": "journey_moment",
                    "event_id": f"{account_id}-{event.event_id}",
                    "account_id": account_id,
                    "occurred_at": at,
                    "moment": event.kind,
                },
            )
    return out


async def alerts_of(analyzer: ServiceProcess, account_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY)) as client:
        response = await client.get("/v1/alerts", params={"account_id": account_id, "limit": 1000})
        alerts: list[dict[str, Any]] = response.json()
        return alerts


async def test_divergence_alerts_fire_months_before_renewal_while_the_aligned_account_stays_silent(
    kafka_bootstrap: str,
    topics: Topics,
    ingest: ServiceProcess,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    divided = canonical("divided-co", story.divided_events())
    aligned = canonical("aligned-co", story.aligned_events())
    # Events up to the renewal: what the supplier would have seen in time.
    cut = story.RENEWAL.isoformat()
    bodies = [e for e in divided + aligned if e["occurred_at"] < cut]
    analyzer = analyzer_process(kafka_bootstrap, topics, sqlite_url, tmp_path, "analyzer", **FUTURE)
    analyzer.start()
    try:
        for start in range(0, len(bodies), 200):
            assert (await post_batch(ingest, bodies[start : start + 200])).status_code == 202
        await wait_for_value(partial(applied, analyzer), lambda n: n == len(bodies), timeout_s=120, what="the year")

        opened = [a for a in await alerts_of(analyzer, "divided-co") if a["type"] in DIVERGENCE_TYPES]
        assert {a["type"] for a in opened} >= {"stakeholder_divergence", "masked_by_average"}
        first = min(opened, key=lambda a: a["opened_as_of"])
        days_before = (story.RENEWAL - date.fromisoformat(first["opened_as_of"][:10])).days
        assert days_before >= 90, f"the first divergence alert came only {days_before} days before renewal"
        assert first["metrics"]["nps"] is not None
        assert first["metrics"]["nps"] >= 0, "the single score must look healthy when the split is found"
        assert first["evidence"], "an alert carries the events behind it"

        for alert in sorted(await alerts_of(analyzer, "divided-co"), key=lambda a: a["opened_as_of"]):
            print(alert["opened_as_of"][:10], alert["type"], alert["severity"], alert["status"], alert["as_of"][:10])
        quiet = [a for a in await alerts_of(analyzer, "aligned-co") if a["type"] in DIVERGENCE_TYPES]
        assert quiet == [], quiet
    finally:
        analyzer.stop()
