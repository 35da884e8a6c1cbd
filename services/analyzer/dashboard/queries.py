"""The queries only the dashboard asks: value at risk, open risk alerts per account, journey moments,
and the backtest of ``GET /v1/backtest``.

Accounts, alerts, answers and the account figures themselves are read through the repositories and
the API's code that the JSON API uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from services.analyzer.backtest.schemas import BacktestView
from services.analyzer.backtest.service import compute
from services.analyzer.dashboard.figures import RISK_TYPES
from services.analyzer.db.models import Account, AlertRow, JourneyMomentRow
from services.analyzer.repository.directory import OPEN_STATUSES

MAX_MOMENTS = 500  # journey moments drawn on one account's chart, the latest ones


@dataclass(frozen=True, slots=True)
class Portfolio:
    """Every account together: how many, their value, and the part at risk."""

    accounts: int
    total_value: float
    at_risk_accounts: int
    value_at_risk: float
    at_risk_without_value: int  # accounts at risk whose annual value is not known


def _at_risk_ids() -> ScalarSelect[str]:
    """Ids of the accounts with an open (or acknowledged) alert of a risk type."""
    return (
        select(AlertRow.account_id)
        .where(AlertRow.status.in_(OPEN_STATUSES), AlertRow.type.in_(RISK_TYPES))
        .distinct()
        .scalar_subquery()
    )


async def portfolio(session: AsyncSession) -> Portfolio:
    """Account count and value, and the annual value summed over accounts with an open risk alert."""
    accounts, total = (await session.execute(select(func.count(), func.sum(Account.annual_value)))).one()
    at_risk, value, valued = (
        await session.execute(
            select(func.count(), func.sum(Account.annual_value), func.count(Account.annual_value)).where(
                Account.account_id.in_(_at_risk_ids())
            )
        )
    ).one()
    return Portfolio(
        accounts=int(accounts),
        total_value=float(total or 0),
        at_risk_accounts=int(at_risk),
        value_at_risk=float(value or 0),
        at_risk_without_value=int(at_risk) - int(valued),
    )


async def risk_types(session: AsyncSession, account_ids: Sequence[str]) -> dict[str, set[str]]:
    """Per account, the risk alert types it has open (open or acknowledged)."""
    if not account_ids:
        return {}
    rows = await session.execute(
        select(AlertRow.account_id, AlertRow.type)
        .where(
            AlertRow.account_id.in_(list(account_ids)),
            AlertRow.status.in_(OPEN_STATUSES),
            AlertRow.type.in_(RISK_TYPES),
        )
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for account_id, alert_type in rows:
        found.setdefault(account_id, set()).add(alert_type)
    return found


async def moments(session: AsyncSession, account_id: str) -> list[JourneyMomentRow]:
    """The account's journey moments, oldest first (the latest ``MAX_MOMENTS``)."""
    rows = await session.scalars(
        select(JourneyMomentRow)
        .where(JourneyMomentRow.account_id == account_id)
        .order_by(JourneyMomentRow.occurred_at.desc(), JourneyMomentRow.event_id)
        .limit(MAX_MOMENTS)
    )
    return sorted(rows, key=lambda m: (m.occurred_at, m.event_id))


async def backtest(session: AsyncSession, *, lookback_days: int, horizon: timedelta, max_rows: int) -> BacktestView:
    """What ``GET /v1/backtest?lookback_days=...`` answers (every account, no per-renewal detail).

    ``InvalidRequest`` when it would read more than ``max_rows`` rows.
    """
    return await compute(session, lookback=timedelta(days=lookback_days), horizon=horizon, max_rows=max_rows)
