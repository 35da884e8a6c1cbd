"""``feedback risk``: fit the renewal-risk model to stored renewals, show it, reset it (SQLite and PostgreSQL).

A simulated portfolio is applied through the analyzer's real processing into a real database; the
command runs as a real subprocess against it, as an operator would run it.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bench.demo.generator import generate
from services.analyzer.db.models import RiskModelRow
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, FACTORS
from services.analyzer.risk_command import load_active
from services.analyzer.settings import AnalyzerSettings
from tests.analyzer.helpers import apply_all, sessions_for
from tests.cli.helpers import feedback
from tests.factories import PERSONAL_DATA_KEY

END = date(2026, 11, 30)


def service_env(database_url: str) -> dict[str, str]:
    """What an operator's shell holds where the analyzer runs (production: the key-encryption key too)."""
    return {"DATABASE_URL": database_url, "PERSONAL_DATA_KEY": PERSONAL_DATA_KEY}


def portfolio_into(url: str, *, accounts: int, seed: int = 5) -> None:
    """A seeded portfolio of ``accounts`` accounts applied to the database, one batch per 500 events."""
    events = list(generate(seed, end=END, accounts=accounts).events)

    async def apply() -> None:
        async with sessions_for(url) as sessions:
            for start in range(0, len(events), 500):
                await apply_all(sessions, events[start : start + 500])

    asyncio.run(apply())


async def stored(url: str) -> list[RiskModelRow]:
    async with sessions_for(url) as sessions, sessions() as session:
        return list(await session.scalars(select(RiskModelRow).order_by(RiskModelRow.created_at)))


def test_fit_stores_a_versioned_model_that_the_analyzer_then_uses(database_url: str, tmp_path: Path) -> None:
    portfolio_into(database_url, accounts=60)
    env = service_env(database_url)

    dry = feedback("--json", "risk", "fit", "--dry-run", env=env, cwd=tmp_path)
    assert dry.code == 0, dry
    report = dry.json()
    assert report["stored"] is False
    assert report["renewals"] == 60
    assert 8 <= report["bad"] <= 52
    assert set(report["model"]["coefficients"]) == set(FACTORS)
    assert report["validation"]["trained_on"] + report["validation"]["tested_on"] == 60
    assert asyncio.run(stored(database_url)) == []
    assert (
        asyncio.run(load_active(AnalyzerSettings(database_url=database_url, environment="test"))) == DEFAULT_RISK_MODEL
    )

    # --force: on 60 renewals the fit may validate no better than the defaults (it is refused then).
    fitted = feedback("--json", "risk", "fit", "--force", env=env, cwd=tmp_path)
    assert fitted.code == 0, fitted
    version = fitted.json()["model"]["version"]
    rows = asyncio.run(stored(database_url))
    assert [(row.version, row.active, row.renewals) for row in rows] == [(version, True, 60)]
    in_use = asyncio.run(load_active(AnalyzerSettings(database_url=database_url, environment="test")))
    assert in_use.version == version
    assert in_use.coefficients == rows[0].coefficients

    # A second fit is checked against the fit now in use, which saw every renewal, the later ones too:
    # out of time it predicts them worse, so it is refused and nothing changes, unless forced.
    again = feedback("risk", "fit", env=env, cwd=tmp_path)
    assert again.code == 1, again
    assert "not stored: the fit scores Brier" in again.err
    assert "--force stores and uses it anyway" in again.err
    assert [row.version for row in asyncio.run(stored(database_url))] == [version]

    shown = feedback("--json", "risk", "show", env=env, cwd=tmp_path)
    assert shown.code == 0, shown
    assert shown.json()["active"]["version"] == version
    assert [fit["version"] for fit in shown.json()["fits"]] == [version]

    reset = feedback("--json", "risk", "reset", env=env, cwd=tmp_path)
    assert reset.code == 0, reset
    assert reset.json() == {"deactivated": 1}
    assert (
        asyncio.run(load_active(AnalyzerSettings(database_url=database_url, environment="test"))) == DEFAULT_RISK_MODEL
    )
    assert [row.active for row in asyncio.run(stored(database_url))] == [False]  # kept, no longer in use


def test_too_few_renewals_is_refused_with_the_counts(sqlite_url: str, tmp_path: Path) -> None:
    portfolio_into(sqlite_url, accounts=12)
    run = feedback("risk", "fit", env=service_env(sqlite_url), cwd=tmp_path)
    assert run.code == 1, run
    assert "cannot fit the risk model: 12 renewals with a known outcome" in run.err
    assert "a fit needs at least 30" in run.err
    assert asyncio.run(stored(sqlite_url)) == []


def test_a_negative_penalty_is_a_usage_error(sqlite_url: str, tmp_path: Path) -> None:
    run = feedback("risk", "fit", "--l2", "-1", env=service_env(sqlite_url), cwd=tmp_path)
    assert run.code == 2, run
    assert "--l2 must not be negative" in run.err
