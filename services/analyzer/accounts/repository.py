"""Queries on accounts the API's account code does not ask: the portfolio's count, value and value at risk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from services.analyzer.db.models import Account, AlertRow
from services.analyzer.model.alerts import OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class Portfolio:
    """Every account together: how many, their value, and the part at risk."""

    accounts: int
    total_value: float
    at_risk_accounts: int
    value_at_risk: float
    at_risk_without_value: int  # accounts at risk whose annual value is not known


def _at_risk_ids(risk_types: Sequence[str]) -> ScalarSelect[str]:
    """Ids of the accounts with an open (or acknowledged) alert of one of ``risk_types``."""
    return (
        select(AlertRow.account_id)
        .where(AlertRow.status.in_(OPEN_STATUSES), AlertRow.type.in_(list(risk_types)))
        .distinct()
        .scalar_subquery()
    )


async def portfolio(session: AsyncSession, *, risk_types: Sequence[str]) -> Portfolio:
    """Account count and value, and the annual value summed over accounts with an open alert of ``risk_types``."""
    accounts, total = (await session.execute(select(func.count(), func.sum(Account.annual_value)))).one()
    at_risk, value, valued = (
        await session.execute(
            select(func.count(), func.sum(Account.annual_value), func.count(Account.annual_value)).where(
                Account.account_id.in_(_at_risk_ids(risk_types))
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
