"""``GET /v1/backtest`` is bounded: it reads only accounts with a renewal outcome, and refuses (422) past a row cap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from services.analyzer.app import create_app
from services.analyzer.backtest import repository as outcomes
from services.analyzer.backtest.rules import SCORED_ALERTS
from tests.analyzer.backtest.test_backtest_api import ANSWERED, account
from tests.analyzer.helpers import apply_all, sessions_for
from tests.dashboard.test_http import sign_in
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
async def api(database_url: str, max_rows: int) -> AsyncIterator[httpx.AsyncClient]:
    settings = create_analyzer_settings(
        "127.0.0.1:1", unique_topics(), database_url, analyzer_backtest_max_rows=max_rows
    )
    app = create_app(settings, consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analyzer", headers=auth(ANALYZER_KEY)) as c:
            yield c


def chatty(account_id: str, people: int) -> list[dict[str, object]]:
    """An account with many NPS answers and no renewal outcome: nothing the backtest scores."""
    events: list[dict[str, object]] = [create_account(account_id=account_id, occurred_at="2026-01-01T00:00:00Z")]
    for n in range(people):
        events.append(create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-{n}", role="it"))
        events.append(
            create_survey(account_id=account_id, stakeholder_id=f"{account_id}-{n}", score=3, occurred_at=ANSWERED)
        )
    return events


async def test_past_the_cap_the_backtest_is_refused_naming_the_setting_and_the_way_out(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(
            sessions,
            [
                *account("split-co", procurement=10, it=2, outcome="churned"),
                *account("sour-co", procurement=3, it=4, outcome="renewed"),
                *chatty("quiet-co", people=30),
            ],
        )
        async with sessions() as session:
            everything = await outcomes.rows_to_read(session, SCORED_ALERTS)
            split = await outcomes.rows_to_read(session, SCORED_ALERTS, account_prefix="split")
    # The 30 answers of the account without a renewal outcome are not read at all.
    assert 0 < split < everything < 30
    async with api(database_url, max_rows=everything) as client:
        assert (await client.get("/v1/backtest")).status_code == 200
    async with api(database_url, max_rows=everything - 1) as client:
        refused = await client.get("/v1/backtest")
        assert refused.status_code == 422
        [error] = refused.json()["detail"]
        assert error == {
            "field": "account_prefix",
            "message": f"the backtest would read {everything} stored rows, more than ANALYZER_BACKTEST_MAX_ROWS "
            f"({everything - 1}); narrow it with account_prefix",
            "type": "too_large",
        }
        narrowed = await client.get("/v1/backtest", params={"account_prefix": "split"})
        assert narrowed.status_code == 200
        assert narrowed.json()["renewals"] == 1
        await sign_in(client)
        page = await client.get("/dashboard/backtest")
        assert page.status_code == 422
        assert "ANALYZER_BACKTEST_MAX_ROWS" in page.text


async def test_accounts_without_a_renewal_outcome_change_nothing_in_the_result(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, account("split-co", procurement=10, it=2, outcome="churned"))
    async with api(database_url, max_rows=1000) as client:
        before = (await client.get("/v1/backtest", params={"detail": "true"})).json()
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, chatty("quiet-co", people=5))
    async with api(database_url, max_rows=1000) as client:
        after = (await client.get("/v1/backtest", params={"detail": "true"})).json()
    assert after == before
