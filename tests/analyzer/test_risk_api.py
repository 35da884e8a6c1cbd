"""Who decides a renewal, and the renewal risk in the accounts API, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import select

from services.analyzer.db.models import AccountModel, Stakeholder
from services.analyzer.model import DEFAULT_THRESHOLDS
from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.test_api import api
from tests.factories import create_account, create_stakeholder, create_survey

AT = "2026-05-01T10:00:00Z"


def people(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["stakeholder_id"]: s for s in view["stakeholders"]}


def factor(view: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in view["risk"]["factors"] if f["name"] == name)
    return found


def account_of(account_id: str, *, procurement: int, annual_value: float | None = None) -> list[dict[str, Any]]:
    """An account whose procurement lead and IT answer NPS; IT is happy, procurement as given."""
    fields: dict[str, Any] = {"renewal_date": "2026-07-01"}
    if annual_value is not None:
        fields["annual_value"] = annual_value
    return [
        create_account(account_id=account_id, **fields),
        create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-p", role="procurement"),
        create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-i", role="it"),
        create_survey(account_id=account_id, stakeholder_id=f"{account_id}-p", score=procurement, occurred_at=AT),
        create_survey(account_id=account_id, stakeholder_id=f"{account_id}-i", score=9, occurred_at=AT),
    ]


async def test_the_flag_is_stored_and_the_view_shows_who_decides(database_url: str) -> None:
    events = [
        create_account(account_id="acme", annual_value=120_000),
        create_stakeholder(account_id="acme", stakeholder_id="fay", role="finance", decision_maker=False),
        create_stakeholder(account_id="acme", stakeholder_id="ivan", role="it", decision_maker=True),
        create_stakeholder(account_id="acme", stakeholder_id="pia", role="procurement"),
        create_stakeholder(account_id="acme", stakeholder_id="ulla", role="end_user"),
        create_stakeholder(account_id="acme", stakeholder_id="sam", role="other", side="supplier", decision_maker=True),
        create_survey(account_id="acme", stakeholder_id="fay", score=8, occurred_at=AT),
        create_survey(account_id="acme", stakeholder_id="ivan", score=3, occurred_at=AT),
        create_survey(account_id="acme", stakeholder_id="pia", score=9, occurred_at=AT),
        # A later event that leaves the flag out does not change it.
        create_stakeholder(account_id="acme", stakeholder_id="ivan", name="Ivan", occurred_at="2026-05-02T00:00:00Z"),
    ]
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, events)
        async with sessions() as session:
            stored = {p.stakeholder_id: p.decision_maker for p in await session.scalars(select(Stakeholder))}
    assert stored == {"fay": False, "ivan": True, "pia": None, "ulla": None, "sam": True}
    async with api(database_url) as client:
        view = (await client.get("/v1/accounts/acme")).json()
    who = people(view)
    # Finance decides by default but is flagged out; IT does not by default but is flagged in;
    # a supplier never decides the client's renewal, whatever its flag.
    assert {sid: p["decision_maker"] for sid, p in who.items()} == {
        "fay": False,
        "ivan": True,
        "pia": True,
        "ulla": False,
        "sam": False,
    }
    assert who["ivan"]["name"] == "Ivan"
    # Standard errors: finite for people who answered, null (never Infinity) for those who did not.
    assert who["pia"]["se"] > 0
    assert who["ulla"]["position"] is None
    assert who["ulla"]["se"] is None
    assert all(r["se"] is not None and r["se"] > 0 for r in view["roles"])
    assert view["answer_noise"] > 0
    # The lowest decision maker is IT (flagged in), not finance (flagged out).
    assert view["risk"]["lowest_decision_role"] == "it"


async def test_the_view_shows_the_risk_and_the_noise_of_the_gap(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, account_of("acme", procurement=2, annual_value=50_000))
    async with api(database_url) as client:
        view = (await client.get("/v1/accounts/acme")).json()
        listed = (await client.get("/v1/accounts")).json()
    risk = view["risk"]
    assert 0 < risk["probability"] < 1
    assert risk["model_version"]
    assert risk["lowest_decision_role"] == "procurement"
    contributions = {f["name"]: f["contribution"] for f in risk["factors"]}
    assert "lowest_decision_maker" in contributions
    assert contributions["lowest_decision_maker"] > 0  # procurement at NPS 2 decides
    # The reasons: the factors that raise the risk most (at most three), largest first.
    raising = sorted((n for n, c in contributions.items() if c > 1e-9), key=lambda n: (-contributions[n], n))
    assert risk["reasons"] == raising[:3]
    gap = view["widest_gap"]
    assert (gap["high_role"], gap["low_role"]) == ("it", "procurement")
    assert gap["se"] > 0
    assert gap["lower"] == pytest.approx(gap["gap"] - DEFAULT_THRESHOLDS.divergence_z * gap["se"])
    # The list shows the figure stored at the newest evaluation: the same risk, and its value.
    [row] = listed
    assert row["risk"] == pytest.approx(risk["probability"])
    assert row["value_at_risk"] == pytest.approx(risk["probability"] * 50_000)


async def test_changing_the_flag_rebuilds_the_account(database_url: str) -> None:
    # IT is unhappy, procurement content: by default only procurement decides.
    events = [
        create_account(account_id="acme", annual_value=100_000, renewal_date="2026-07-01"),
        create_stakeholder(account_id="acme", stakeholder_id="pia", role="procurement"),
        create_stakeholder(account_id="acme", stakeholder_id="ivan", role="it"),
        create_survey(account_id="acme", stakeholder_id="pia", score=9, occurred_at=AT),
        create_survey(account_id="acme", stakeholder_id="ivan", score=1, occurred_at=AT),
    ]

    async def read() -> tuple[dict[str, Any], dict[str, Any], float | None]:
        async with api(database_url) as client:
            view = (await client.get("/v1/accounts/acme")).json()
            [row] = (await client.get("/v1/accounts")).json()
        async with sessions_for(database_url) as sessions, sessions() as session:
            model = await session.get(AccountModel, "acme")
            assert model is not None
            assert row["risk"] == model.risk
        return view, row, model.risk

    def flag(value: bool, occurred_at: str) -> dict[str, Any]:
        return create_stakeholder(
            account_id="acme", stakeholder_id="ivan", decision_maker=value, occurred_at=occurred_at
        )

    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, events)
        before, _, stored_before = await read()
        assert people(before)["ivan"]["decision_maker"] is False
        assert before["risk"]["lowest_decision_role"] == "procurement"
        assert stored_before == pytest.approx(before["risk"]["probability"])

        # A directory event alone folds in no answer: only the rebuild it triggers rewrites the stored risk.
        await apply_all(sessions, [flag(True, "2026-05-02T00:00:00Z")])
        after, row, stored_after = await read()
        assert people(after)["ivan"]["decision_maker"] is True
        assert after["risk"]["lowest_decision_role"] == "it"
        assert factor(after, "lowest_decision_maker")["value"] < factor(before, "lowest_decision_maker")["value"]
        assert after["risk"]["probability"] > before["risk"]["probability"]
        assert stored_after == pytest.approx(after["risk"]["probability"])
        assert row["value_at_risk"] == pytest.approx(after["risk"]["probability"] * 100_000)

        # An older write of the flag arriving late does not win; a newer one does, and rebuilds again.
        await apply_all(sessions, [flag(False, "2026-05-01T12:00:00Z")])
        late, _, _ = await read()
        assert people(late)["ivan"]["decision_maker"] is True
        assert late["risk"]["probability"] == pytest.approx(after["risk"]["probability"])
        await apply_all(sessions, [flag(False, "2026-05-03T00:00:00Z")])
        again, _, stored_again = await read()
        assert people(again)["ivan"]["decision_maker"] is False
        assert again["risk"]["lowest_decision_role"] == "procurement"
        assert stored_again == pytest.approx(before["risk"]["probability"])


async def test_accounts_are_listed_by_risk_and_by_value_at_risk(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, account_of("a-small", procurement=1, annual_value=10_000))
        await apply_all(sessions, account_of("b-large", procurement=10, annual_value=1_000_000))
        await apply_all(sessions, account_of("c-unpriced", procurement=6))
        await apply_all(sessions, [create_account(account_id="d-quiet", annual_value=500_000)])
    async with api(database_url) as client:
        by_risk = (await client.get("/v1/accounts", params={"order": "risk"})).json()
        by_value = (await client.get("/v1/accounts", params={"order": "value_at_risk"})).json()
        page = (await client.get("/v1/accounts", params={"order": "value_at_risk", "limit": 1, "offset": 1})).json()
        refused = await client.get("/v1/accounts", params={"order": "risk_desc"})
    risks = {a["account_id"]: a["risk"] for a in by_risk}
    assert risks["a-small"] > risks["c-unpriced"] > risks["b-large"]
    assert risks["d-quiet"] is None
    # Highest first, accounts without the figure last (by id).
    assert [a["account_id"] for a in by_risk] == ["a-small", "c-unpriced", "b-large", "d-quiet"]
    values = {a["account_id"]: a["value_at_risk"] for a in by_value}
    assert values["a-small"] == pytest.approx(risks["a-small"] * 10_000)
    assert values["b-large"] == pytest.approx(risks["b-large"] * 1_000_000)
    assert values["c-unpriced"] is None  # no annual value
    assert values["d-quiet"] is None  # no risk yet
    assert values["b-large"] > values["a-small"]
    assert [a["account_id"] for a in by_value] == ["b-large", "a-small", "c-unpriced", "d-quiet"]
    assert [a["account_id"] for a in page] == ["a-small"]
    assert refused.status_code == 422
    for row in by_risk:
        assert row["risk"] is None or math.isfinite(row["risk"])
