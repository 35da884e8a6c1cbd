"""The fitted renewal-risk models: stored with every fit, at most one in use (``feedback risk``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import RiskModelRow
from services.analyzer.model.risk import FACTORS, RiskModel


def to_model(row: RiskModelRow) -> RiskModel:
    """The model a stored fit describes (factors this version does not know are left out)."""
    coefficients = {name: float(value) for name, value in row.coefficients.items() if name in FACTORS}
    return RiskModel(
        version=row.version,
        intercept=row.intercept,
        coefficients=coefficients,
        prior_position=row.prior_position,
        prior_sd=row.prior_sd,
        source=row.source,
    )


async def active(session: AsyncSession) -> RiskModelRow | None:
    """The fit in use, if any (None: the documented defaults)."""
    return await session.scalar(select(RiskModelRow).where(RiskModelRow.active.is_(True)))


async def history(session: AsyncSession) -> list[RiskModelRow]:
    """Every stored fit, newest first."""
    return list(await session.scalars(select(RiskModelRow).order_by(RiskModelRow.created_at.desc())))


async def store(
    session: AsyncSession,
    model: RiskModel,
    *,
    created_at: datetime,
    renewals: int,
    bad: int,
    validation: dict[str, Any] | None,
) -> RiskModelRow:
    """Record a fit and put it in use (the one before it stays stored, no longer active)."""
    await session.execute(update(RiskModelRow).where(RiskModelRow.active.is_(True)).values(active=False))
    row = RiskModelRow(
        version=model.version,
        created_at=created_at,
        intercept=model.intercept,
        coefficients=dict(model.coefficients),
        prior_position=model.prior_position,
        prior_sd=model.prior_sd,
        source=model.source,
        renewals=renewals,
        bad=bad,
        validation=validation,
        active=True,
    )
    session.add(row)
    return row


async def reset(session: AsyncSession) -> int:
    """Stop using any fit: the analyzer goes back to the defaults. Returns how many were active."""
    result = await session.execute(update(RiskModelRow).where(RiskModelRow.active.is_(True)).values(active=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
