"""The analyzer API over a real database: accounts, positions, history, alerts and the closed loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.analyzer.app import create_app
from services.analyzer.db.models import OutboxMessage
from services.analyzer.model import DEFAULT_THRESHOLDS
from tests.analyzer.helpers import apply_all, sessions_for
from tests.factories import (
    ANALYZER_KEY,
    auth,
    create_account,
    create_analyzer_settings,
    create_stakeholder,
    create_survey,
)
from tests.harness.kafka import unique_topics


@asynccontextmanager
async def api(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = create_analyzer_settings("127.0.0.1:1", unique_topics(), database_url)
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analyzer", headers=auth(ANALYZER_KEY)) as c:
            yield c


def split_account(account_id: str, *, procurement: int, it: int, month: int = 5) -> list[dict[str, Any]]:
    """An account whose procurement and IT answer NPS apart."""
    at = f"2026-{month:02d}-01T10:00:00Z"
    return [
        create_account(account_id=account_id, segment="enterprise", renewal_date="2027-02-01"),
        create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-p", role="procurement"),
        create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-i", role="it"),
        create_survey(account_id=account_id, stakeholder_id=f"{account_id}-p", score=procurement, occurred_at=at),
        create_survey(account_id=account_id, stakeholder_id=f"{account_id}-i", score=it, occurred_at=at),
    ]


async def test_account_shows_positions_divergence_and_the_single_score(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split_account("acme", procurement=10, it=2))
    async with api(database_url) as client:
        view = (await client.get("/v1/accounts/acme")).json()
    gap = view["widest_gap"]
    assert {k: gap[k] for k in ("high_role", "low_role", "gap")} == {
        "high_role": "procurement",
        "low_role": "it",
        "gap": 1.6,
    }
    # The gap's standard error, and how much of the gap survives the noise.
    assert gap["se"] > 0
    assert gap["lower"] == pytest.approx(1.6 - DEFAULT_THRESHOLDS.divergence_z * gap["se"])
    assert view["divergence"] == 1.6
    assert abs(view["account_mean"] - 0.2) < 1e-9
    assert view["nps"] == 0  # one promoter, one detractor: the single score reads neutral
    positions = {s["stakeholder_id"]: s["position"] for s in view["stakeholders"]}
    assert positions == {"acme-i": -0.6, "acme-p": 1.0}
    assert {r["role"] for r in view["roles"]} == {"procurement", "it"}
    assert view["open_alerts"] >= 1


async def test_accounts_are_listed_by_divergence_and_filtered_by_segment(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split_account("wide", procurement=10, it=0))
        await apply_all(sessions, split_account("narrow", procurement=8, it=7))
        await apply_all(sessions, [create_account(account_id="smb", segment="smb")])
    async with api(database_url) as client:
        listed = (await client.get("/v1/accounts")).json()
        assert [a["account_id"] for a in listed] == ["wide", "narrow", "smb"]
        enterprise = (await client.get("/v1/accounts", params={"segment": "smb"})).json()
        assert [a["account_id"] for a in enterprise] == ["smb"]
        assert (await client.get("/v1/accounts/nope")).status_code == 404
        assert (await client.get("/v1/accounts", headers=auth("wrong"))).status_code == 401


async def test_the_account_list_shows_decision_makers_heard_out_of_all(database_url: str) -> None:
    # Heard is relative to the wall clock (an answer within SURVEY_REQUEST_SILENT_AFTER_S, 90 days by default).
    now = datetime.now(UTC)
    recent, stale = (f"{(now - timedelta(days=d)):%Y-%m-%dT%H:%M:%SZ}" for d in (3, 200))
    events = [
        create_account(account_id="covered", occurred_at=stale),
        create_stakeholder(account_id="covered", stakeholder_id="buyer", role="procurement", occurred_at=stale),
        create_stakeholder(account_id="covered", stakeholder_id="cfo", role="finance", occurred_at=stale),
        create_stakeholder(account_id="covered", stakeholder_id="dev", role="it", occurred_at=stale),
        create_survey(account_id="covered", stakeholder_id="buyer", score=8, occurred_at=recent),
        create_survey(account_id="covered", stakeholder_id="cfo", score=6, occurred_at=stale),
        create_survey(account_id="covered", stakeholder_id="dev", score=9, occurred_at=recent),
        create_account(account_id="nobody", occurred_at=stale),
        create_stakeholder(account_id="nobody", stakeholder_id="ops", role="it", occurred_at=stale),
    ]
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, events)
    async with api(database_url) as client:
        listed = {a["account_id"]: a for a in (await client.get("/v1/accounts")).json()}
        full = (await client.get("/v1/accounts/covered/coverage")).json()
    # The buyer answered lately, the CFO long ago; IT decides nothing by default.
    assert listed["covered"]["coverage"] == {"decision_makers_heard": 1, "decision_makers": 2}
    # The same figures as the account's own coverage.
    assert (full["decision_makers_heard"], len(full["decision_makers"])) == (1, 2)
    assert listed["nobody"]["coverage"] is None


async def test_history_per_week(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split_account("acme", procurement=9, it=8, month=5))
        await apply_all(sessions, split_account("acme", procurement=10, it=1, month=7))
    async with api(database_url) as client:
        weeks = (await client.get("/v1/accounts/acme/history", params={"bucket": "week"})).json()
    assert len(weeks) >= 9
    assert weeks[0]["divergence"] < 0.3
    assert weeks[-1]["divergence"] > weeks[0]["divergence"]


async def test_divergence_alert_opens_once_and_the_loop_closes_by_hand(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, split_account("acme", procurement=10, it=2))
        # A replay of the same events opens nothing new.
        await apply_all(sessions, split_account("acme", procurement=10, it=2))
    async with api(database_url) as client:
        alerts = (await client.get("/v1/alerts", params={"type": "stakeholder_divergence"})).json()
        assert len(alerts) == 1
        alert = alerts[0]
        assert alert["status"] == "open"
        assert alert["severity"] == "critical"
        assert "Procurement" in alert["summary"]
        assert alert["evidence"]
        acked = await client.post(
            f"/v1/alerts/{alert['alert_id']}/acknowledge", json={"by": "csm@supplier", "note": "call"}
        )
        assert acked.status_code == 200
        assert acked.json()["status"] == "acknowledged"
        assert acked.json()["time_to_acknowledge_s"] >= 0
        resolved = await client.post(f"/v1/alerts/{alert['alert_id']}/resolve", json={"by": "csm@supplier"})
        assert resolved.json()["status"] == "resolved"
        again = await client.post(f"/v1/alerts/{alert['alert_id']}/resolve", json={"by": "csm@supplier"})
        assert again.status_code == 409
        assert (await client.post("/v1/alerts/nope/acknowledge", json={"by": "x"})).status_code == 404
        assert (await client.get("/v1/alerts", params={"status": "resolved"})).json()[0]["alert_id"] == alert[
            "alert_id"
        ]
    async with sessions_for(database_url) as sessions, sessions() as session:
        changes = [
            m.value["event"]
            for m in await session.scalars(select(OutboxMessage).where(OutboxMessage.message_id.startswith("alert:")))
            if m.value["alert_id"] == alert["alert_id"]
        ]
    assert changes == ["alert.opened", "alert.acknowledged", "alert.resolved"]
