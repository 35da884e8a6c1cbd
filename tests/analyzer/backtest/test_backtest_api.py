"""``GET /v1/backtest`` over a real database: stored outcomes, alerts and client NPS answers."""

from __future__ import annotations

from typing import Any

from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.test_api import api
from tests.factories import create_account, create_moment, create_stakeholder, create_survey

ANSWERED = "2026-03-01T10:00:00Z"
RENEWED_AT = "2026-06-01T10:00:00Z"  # 92 days after the answers


def account(account_id: str, procurement: int, it: int, outcome: object) -> list[dict[str, Any]]:
    """Procurement and IT answer once; a supplier rates itself 0; the renewal ends with ``outcome``."""
    return [
        create_account(account_id=account_id, occurred_at="2026-01-01T00:00:00Z", renewal_date="2026-06-01"),
        create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-p", role="procurement"),
        create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-i", role="it"),
        create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-s", role="other", side="supplier"),
        create_survey(account_id=account_id, stakeholder_id=f"{account_id}-p", score=procurement, occurred_at=ANSWERED),
        create_survey(account_id=account_id, stakeholder_id=f"{account_id}-i", score=it, occurred_at=ANSWERED),
        # The supplier's own answer must not count in the account NPS: with it, split-co would read -33.
        create_survey(account_id=account_id, stakeholder_id=f"{account_id}-s", score=0, occurred_at=ANSWERED),
        create_moment(
            account_id=account_id, moment="renewal_outcome", occurred_at=RENEWED_AT, attributes={"outcome": outcome}
        ),
    ]


def rules(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["rule"]: rule for rule in answer["rules"]}


async def test_divergence_alerts_and_the_classic_rule_scored_against_outcomes(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(
            sessions,
            [
                *account("split-co", procurement=10, it=2, outcome="churned"),  # divergence 1.6, NPS 0
                *account("sour-co", procurement=3, it=4, outcome="renewed"),  # divergence 0.2, NPS -100
                *account("odd-co", procurement=8, it=8, outcome="lost"),  # not an outcome the backtest knows
            ],
        )
    async with api(database_url) as client:
        answer = (await client.get("/v1/backtest", params={"detail": "true"})).json()
        short = (await client.get("/v1/backtest", params={"lookback_days": 30})).json()
        only_split = (await client.get("/v1/backtest", params={"account_prefix": "split"})).json()

    assert answer["renewals"] == 2
    assert answer["outcomes"] == {"renewed": 1, "downsized": 0, "churned": 1}
    assert (answer["bad_outcomes"], answer["unknown_outcomes"], answer["lookback_days"]) == (1, 1, 180)
    split = rules(answer)["stakeholder_divergence"]
    assert {k: split[k] for k in ("flagged", "caught", "false_alarms", "missed", "precision", "recall")} == {
        "flagged": 1,
        "caught": 1,
        "false_alarms": 0,
        "missed": 0,
        "precision": 1.0,
        "recall": 1.0,
    }
    assert split["median_lead_days"] == 92.0
    classic = rules(answer)["nps_below_0"]
    assert (classic["flagged"], classic["caught"], classic["false_alarms"], classic["missed"]) == (1, 0, 1, 1)
    assert (classic["precision"], classic["recall"], classic["median_lead_days"]) == (0.0, 0.0, None)
    detail = {d["account_id"]: d["lead_days"] for d in answer["detail"]}
    assert detail["split-co"]["any_divergence_alert"] == 92.0
    assert detail["split-co"]["nps_below_0"] is None
    assert detail["sour-co"]["nps_below_-20"] == 92.0
    # The split is still open 30 days before the renewal: flagged from the window's start.
    assert rules(short)["stakeholder_divergence"]["median_lead_days"] == 30.0
    assert short["detail"] is None
    assert (only_split["renewals"], only_split["outcomes"]["churned"], only_split["account_prefix"]) == (1, 1, "split")


async def test_backtest_needs_the_key_and_a_valid_window(sqlite_url: str) -> None:
    async with api(sqlite_url) as client:
        empty = await client.get("/v1/backtest")
        assert empty.status_code == 200
        assert empty.json()["renewals"] == 0
        assert all(rule["precision"] is None and rule["recall"] is None for rule in empty.json()["rules"])
        for bad in ({"lookback_days": 0}, {"lookback_days": 731}, {"lookback_days": "x"}, {"account_prefix": ""}):
            answer = await client.get("/v1/backtest", params=bad)
            assert answer.status_code == 422, bad
            assert answer.json()["error"] == "validation_error"
        refused = await client.get("/v1/backtest", headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        assert "/v1/backtest" in (await client.get("/openapi.json")).json()["paths"]
