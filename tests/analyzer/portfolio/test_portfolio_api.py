"""``GET /v1/portfolio`` and its CSV over a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.test_api import api
from tests.factories import auth, create_account, create_stakeholder, create_survey


def csat(nps: int) -> int:
    """The NPS answer on the CSAT scale (1 ... 5)."""
    return 1 + round(nps * 4 / 10)


def account(
    account_id: str,
    *,
    segment: str,
    procurement: int,
    it: int,
    at: str = "2026-05-04T10:00:00Z",
    value: float | None = 100_000.0,
    it_says: str | None = None,
) -> list[dict[str, Any]]:
    """An account whose procurement and IT answer apart, each also on the ``support`` dimension."""
    p, i = f"{account_id}-p", f"{account_id}-i"
    return [
        create_account(account_id=account_id, segment=segment, renewal_date="2026-09-01", annual_value=value),
        create_stakeholder(account_id=account_id, stakeholder_id=p, role="procurement"),
        create_stakeholder(account_id=account_id, stakeholder_id=i, role="it"),
        create_survey(account_id=account_id, stakeholder_id=p, score=procurement, occurred_at=at),
        create_survey(account_id=account_id, stakeholder_id=i, score=it, occurred_at=at, comment=it_says),
        create_survey(
            account_id=account_id,
            stakeholder_id=p,
            score=csat(procurement),
            occurred_at=at,
            metric="csat",
            dimension="support",
        ),
        create_survey(
            account_id=account_id,
            stakeholder_id=i,
            score=csat(it),
            occurred_at=at,
            metric="csat",
            dimension="support",
        ),
    ]


def portfolio_events() -> list[dict[str, Any]]:
    """Two enterprise accounts where IT is low (one heard since Q1), one mid-market account where procurement is."""
    earlier = [
        create_survey(account_id="bolt", stakeholder_id="bolt-p", score=8, occurred_at="2026-02-10T10:00:00Z"),
        create_survey(account_id="bolt", stakeholder_id="bolt-i", score=7, occurred_at="2026-02-10T10:00:00Z"),
    ]
    return [
        *account("acme", segment="enterprise", procurement=10, it=2, it_says="Setting up SSO was painful."),
        *account("bolt", segment="enterprise", procurement=9, it=3, it_says="The integration is clunky and slow."),
        *earlier,
        *account("cray", segment="mid-market", procurement=2, it=9, value=None),
    ]


def by(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in rows}


async def test_the_portfolio_shows_roles_by_segment_low_sides_drivers_and_trends(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, portfolio_events())
    async with api(database_url) as client:
        body = (await client.get("/v1/portfolio")).json()
        accounts = {a["account_id"]: a for a in (await client.get("/v1/accounts")).json()}
        views = {a: (await client.get(f"/v1/accounts/{a}")).json() for a in ("acme", "bolt")}
    assert body["accounts"] == 3
    assert body["truncated"] is False
    assert body["segments"] == []
    cells = by(body["cells"], "segment", "role")
    it = cells[("enterprise", "it")]
    roles = [next(r for r in views[a]["roles"] if r["role"] == "it") for a in ("acme", "bolt")]
    assert it["accounts"] == 2
    assert it["position"] == pytest.approx((roles[0]["position"] + roles[1]["position"]) / 2)
    # Each account's own error plus the spread between the two accounts (docs/model.md, "Portfolio").
    spread = (roles[0]["position"] - roles[1]["position"]) ** 2 / 2
    assert it["se"] == pytest.approx(((roles[0]["se"] ** 2 + roles[1]["se"] ** 2) / 4 + spread / 2) ** 0.5)
    assert cells[("mid-market", "procurement")]["accounts"] == 1
    lows = by(body["low_sides"], "segment", "role")
    assert lows[("enterprise", "it")]["low_in"] == 2
    assert lows[("enterprise", "it")]["share"] == 1.0
    assert lows[("mid-market", "procurement")]["low_in"] == 1
    assert ("enterprise", "procurement") not in lows
    dims = by(body["dimensions"], "segment", "dimension")
    assert dims[("enterprise", "support")]["accounts"] == 2
    assert dims[("enterprise", "support")]["mean_gap"] > 0.5
    assert {d["dimension"] for d in body["dimensions"]} == {"support"}  # answers naming none are the gap itself
    themes = by(body["themes"], "segment", "theme")
    assert themes[("enterprise", "effort")]["accounts"] == 2
    assert all(t["segment"] == "enterprise" for t in body["themes"])  # the mid-market low role wrote nothing
    at_risk = by(body["value_at_risk"], "segment")
    expected = sum(accounts[a]["value_at_risk"] or 0.0 for a in ("acme", "bolt"))
    assert sum(r["value_at_risk"] for r in body["value_at_risk"] if r["segment"] == "enterprise") == pytest.approx(
        expected
    )
    assert ("mid-market",) not in at_risk  # no annual value: nothing to put at risk
    assert body["quarters"] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    trends = by(body["trends"], "segment", "role", "quarter")
    assert trends[("enterprise", "it", "2026-Q1")]["accounts"] == 1  # only bolt had answered by March
    assert trends[("enterprise", "it", "2026-Q2")]["accounts"] == 2
    assert ("enterprise", "it", "2025-Q4") not in trends
    overall = by(body["overall_gaps"], "quarter")
    assert overall[("2026-Q2",)]["split_accounts"] == 3
    assert overall[("2026-Q2",)]["most_often_low"] == "it"
    assert overall[("2026-Q1",)]["mean_gap"] == pytest.approx(2 * (8 - 7) / 10, abs=0.05)


async def test_filters_limits_and_bad_input(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, portfolio_events())
    async with api(database_url) as client:
        mid = (await client.get("/v1/portfolio", params={"segment": "mid-market"})).json()
        both = (await client.get("/v1/portfolio", params=[("segment", "mid-market"), ("segment", "enterprise")])).json()
        none = (await client.get("/v1/portfolio", params={"segment": "nobody"})).json()
        one = (await client.get("/v1/portfolio", params={"limit": 1, "quarters": 1})).json()
        too_many = await client.get("/v1/portfolio", params={"quarters": 9})
        zero = await client.get("/v1/portfolio", params={"limit": 0})
        bad_format = await client.get("/v1/portfolio", params={"format": "xml"})
        segments = await client.get("/v1/portfolio", params=[("segment", f"s{n}") for n in range(21)])
        anonymous = await client.get("/v1/portfolio", headers=auth("wrong"))
    assert {c["segment"] for c in mid["cells"]} == {"mid-market"}
    assert mid["accounts"] == 1
    assert both["accounts"] == 3
    assert both["segments"] == ["enterprise", "mid-market"]
    assert none["accounts"] == 0
    assert none["cells"] == []
    assert none["quarters"] == []
    assert none["as_of"] is None
    assert one["accounts"] == 1
    assert one["truncated"] is True
    assert one["quarters"] == ["2026-Q2"]
    for refused, word in ((too_many, "quarters"), (zero, "limit"), (bad_format, "format"), (segments, "segment")):
        assert refused.status_code == 422, refused.text
        assert word in refused.text
    assert anonymous.status_code == 401


async def test_the_csv_holds_every_figure_and_defuses_formulas(database_url: str) -> None:
    events = [*portfolio_events(), *account("dyna", segment="=HYPERLINK(1)", procurement=8, it=1)]
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, events)
    async with api(database_url) as client:
        body = (await client.get("/v1/portfolio")).json()
        export = await client.get("/v1/portfolio.csv")
        same = await client.get("/v1/portfolio", params={"format": "csv"})
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    assert same.text == export.text
    rows = list(csv.DictReader(io.StringIO(export.text)))
    sections = {r["section"] for r in rows}
    assert {"cell", "low_side", "dimension", "theme", "value_at_risk", "trend", "gap_trend"} <= sections
    assert sum(r["section"] == "cell" for r in rows) == len(body["cells"])
    cell = next(r for r in rows if r["section"] == "cell" and r["segment"] == "enterprise" and r["role"] == "it")
    assert float(cell["position"]) == pytest.approx(
        by(body["cells"], "segment", "role")[("enterprise", "it")]["position"]
    )
    assert all(not r["segment"].startswith("=") for r in rows)
    assert any(r["segment"] == "'=HYPERLINK(1)" for r in rows)
    assert {r["segment"] for r in rows if r["section"] == "overall_trend"} == {"(all)"}
