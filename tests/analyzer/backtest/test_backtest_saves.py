"""Saves in ``GET /v1/backtest`` over a real database: two accounts split, recover and renew alike; the one
whose supplier made and completed a plan through the API before the recovery is a save, the other stays
a false alarm."""

from __future__ import annotations

from typing import Any

from tests.analyzer.backtest.test_backtest_api import rules
from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.test_api import api
from tests.factories import create_account, create_moment, create_stakeholder, create_survey

SPLIT_AT = "2026-01-10T10:00:00Z"
RECOVERY = ("2026-03-01", "2026-03-08", "2026-03-15", "2026-03-22")
RENEWED_AT = "2026-06-01T10:00:00Z"


def split(account_id: str) -> list[dict[str, Any]]:
    """Procurement promoters and IT detractors: a divergence alert opens."""
    people = [("p1", "procurement", 10), ("p2", "procurement", 10), ("i1", "it", 1), ("i2", "it", 1)]
    return [
        create_account(account_id=account_id, occurred_at=SPLIT_AT, renewal_date="2026-06-01"),
        *[
            create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-{s}", role=r, occurred_at=SPLIT_AT)
            for s, r, _ in people
        ],
        *[
            create_survey(account_id=account_id, stakeholder_id=f"{account_id}-{s}", score=n, occurred_at=SPLIT_AT)
            for s, _, n in people
        ],
    ]


def recovery_and_renewal(account_id: str) -> list[dict[str, Any]]:
    """IT comes round over four weeks until the split clears; the account renews."""
    return [
        *[
            create_survey(
                account_id=account_id, stakeholder_id=f"{account_id}-{s}", score=9, occurred_at=f"{d}T10:00:00Z"
            )
            for d in RECOVERY
            for s in ("p1", "p2", "i1", "i2")
        ],
        create_moment(
            account_id=account_id, moment="renewal_outcome", occurred_at=RENEWED_AT, attributes={"outcome": "renewed"}
        ),
    ]


async def test_a_plan_done_before_the_recovery_makes_a_save_apart_from_the_false_alarms(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [*split("saved-co"), *split("alarm-co")])
    async with api(database_url) as client:
        [alert] = (
            await client.get("/v1/alerts", params={"account_id": "saved-co", "type": "stakeholder_divergence"})
        ).json()
        plan = (await client.post(f"/v1/alerts/{alert['alert_id']}/plan", json={"owner": "Sam"})).json()
        done = await client.patch(f"/v1/plans/{plan['plan_id']}", json={"status": "done"})
        assert done.status_code == 200, done.text
        before = (await client.get("/v1/backtest")).json()
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [*recovery_and_renewal("saved-co"), *recovery_and_renewal("alarm-co")])
    async with api(database_url) as client:
        answer = (await client.get("/v1/backtest", params={"detail": "true"})).json()
        cleared = (await client.get("/v1/alerts", params={"type": "stakeholder_divergence"})).json()

    assert before["renewals"] == 0
    # Both splits cleared in the recovery, before the renewal.
    assert sorted(a["status"] for a in cleared) == ["resolved", "resolved"]
    split_rule = rules(answer)["stakeholder_divergence"]
    assert {k: split_rule[k] for k in ("flagged", "caught", "false_alarms", "saves", "precision")} == {
        "flagged": 2,
        "caught": 0,
        "false_alarms": 1,
        "saves": 1,
        "precision": 0.0,
    }
    saved_by = {d["account_id"]: d["saved_by"] for d in answer["detail"]}
    assert "stakeholder_divergence" in saved_by["saved-co"]
    assert saved_by["alarm-co"] == []
    # The classic rules never flagged these accounts (NPS +50 and better): nothing to save.
    assert rules(answer)["nps_below_0"]["saves"] == 0
