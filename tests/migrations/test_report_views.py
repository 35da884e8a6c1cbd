"""The reporting views of revision 0016: read with plain SQL on PostgreSQL, absent on SQLite (docs/operations.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from services.analyzer.db.engine import create_engine
from services.analyzer.migrate import alembic_config
from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.portfolio.test_portfolio_api import portfolio_events
from tests.factories import create_stakeholder, create_survey
from tests.harness.databases import create_database

VIEW_COLUMNS = {
    "report_accounts": [
        "account_id",
        "account_name",
        "segment",
        "renewal_date",
        "annual_value",
        "first_seen_at",
        "last_event_at",
        "model_as_of",
        "account_mean",
        "divergence",
        "nps",
        "risk",
        "value_at_risk",
    ],
    "report_role_headcounts": [
        "account_id",
        "side",
        "role",
        "people",
        "marked_decision_makers",
        "marked_not_decision_makers",
        "not_contactable",
    ],
    "report_role_position_history": ["account_id", "role", "at", "position"],
    "report_role_positions": ["account_id", "role", "at", "position", "model_as_of"],
    "report_alerts": [
        "alert_id",
        "account_id",
        "type",
        "severity",
        "status",
        "active",
        "opened_as_of",
        "closed_as_of",
        "as_of",
        "created_at",
        "updated_at",
        "acknowledged_at",
        "resolved_at",
        "role",
        "high_role",
        "low_role",
        "divergence",
        "divergence_se",
        "account_mean",
        "risk",
    ],
    "report_answer_counts": ["account_id", "role", "answers", "comments", "last_answer_at"],
}

NAME = "Wilhelmina Quarterfield"
COMMENT = "Renewal pricing from Zanzibar-Ledger is outrageous"


def events() -> list[dict[str, Any]]:
    """The portfolio's three accounts, plus a named finance decision maker at acme who comments."""
    return [
        *portfolio_events(),
        create_stakeholder(
            account_id="acme",
            stakeholder_id="acme-f",
            role="finance",
            name=NAME,
            decision_maker=True,
            contactable=False,
        ),
        create_survey(
            account_id="acme", stakeholder_id="acme-f", score=4, occurred_at="2026-05-05T10:00:00Z", comment=COMMENT
        ),
    ]


async def _views(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name"
            else:
                query = "SELECT table_name FROM information_schema.views WHERE table_schema = 'public' ORDER BY 1"
            return [row[0] for row in await connection.execute(sa.text(query))]
    finally:
        await engine.dispose()


async def _read(url: str, view: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The view's column names and rows, by plain SQL as a BI tool would read them."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(sa.text(f"SELECT * FROM {view}"))  # noqa: S608 (names from the test)
            return list(result.keys()), [dict(row._mapping) for row in result]
    finally:
        await engine.dispose()


async def _apply(url: str) -> None:
    async with sessions_for(url) as sessions:
        await apply_all(sessions, events())


def test_every_view_reads_the_applied_events_with_plain_sql_and_names_no_one(pg_admin_url: str, tmp_path: Path) -> None:
    url = create_database("postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url)
    asyncio.run(_apply(url))
    read = {view: asyncio.run(_read(url, view)) for view in VIEW_COLUMNS}

    for view, columns in VIEW_COLUMNS.items():
        assert read[view][0] == columns, view
        assert read[view][1], f"{view} is empty"
    text = repr(read).lower()
    assert NAME.lower() not in text
    assert "zanzibar" not in text
    assert "sso" not in text  # IT's comment at acme

    accounts = {r["account_id"]: r for r in read["report_accounts"][1]}
    assert set(accounts) == {"acme", "bolt", "cray"}
    assert accounts["acme"]["segment"] == "enterprise"
    assert accounts["acme"]["annual_value"] == 100_000.0
    assert accounts["acme"]["value_at_risk"] == accounts["acme"]["risk"] * 100_000.0
    assert accounts["cray"]["value_at_risk"] is None  # no annual value
    assert accounts["acme"]["divergence"] > 1.0

    heads = {(r["account_id"], r["role"]): r for r in read["report_role_headcounts"][1]}
    assert heads[("acme", "finance")]["people"] == 1
    assert heads[("acme", "finance")]["marked_decision_makers"] == 1
    assert heads[("acme", "finance")]["not_contactable"] == 1
    assert heads[("acme", "it")]["marked_decision_makers"] == 0
    assert heads[("acme", "it")]["side"] == "client"

    latest = {(r["account_id"], r["role"]): r for r in read["report_role_positions"][1]}
    assert latest[("acme", "procurement")]["position"] > 0.5 > latest[("acme", "it")]["position"]
    assert latest[("cray", "it")]["position"] > latest[("cray", "procurement")]["position"]
    history = read["report_role_position_history"][1]
    # bolt's IT was heard in February, then again in May: the latest point is the newest of its history.
    bolt_it = sorted((r["at"], r["position"]) for r in history if (r["account_id"], r["role"]) == ("bolt", "it"))
    assert len(bolt_it) >= 2
    assert bolt_it[-1] == (latest[("bolt", "it")]["at"], latest[("bolt", "it")]["position"])

    alerts = [r for r in read["report_alerts"][1] if r["type"] == "stakeholder_divergence"]
    assert {(r["account_id"], r["high_role"], r["low_role"]) for r in alerts} >= {
        ("acme", "procurement", "it"),
        ("cray", "it", "procurement"),
    }
    assert all(r["divergence"] > 0.4 and r["status"] == "open" and r["as_of"] is not None for r in alerts)

    counts = {(r["account_id"], r["role"]): r for r in read["report_answer_counts"][1]}
    assert counts[("acme", "it")]["comments"] == 1
    assert counts[("acme", "finance")]["comments"] == 1
    assert counts[("acme", "procurement")]["comments"] == 0
    assert counts[("acme", "procurement")]["answers"] == 2  # NPS and the support CSAT


def test_the_downgrade_drops_the_views_and_the_upgrade_brings_them_back(pg_admin_url: str, tmp_path: Path) -> None:
    url = create_database("postgres", tmp_path=tmp_path, pg_admin_url=pg_admin_url)
    assert asyncio.run(_views(url)) == sorted(VIEW_COLUMNS)
    config = alembic_config(url)
    command.downgrade(config, "0015")
    assert asyncio.run(_views(url)) == []
    command.upgrade(config, "head")
    assert asyncio.run(_views(url)) == sorted(VIEW_COLUMNS)


def test_the_migration_does_nothing_on_sqlite(sqlite_url: str) -> None:
    assert asyncio.run(_views(sqlite_url)) == []
    config = alembic_config(sqlite_url)
    command.downgrade(config, "0015")
    command.upgrade(config, "head")
    assert asyncio.run(_views(sqlite_url)) == []
    command.check(config)
