"""Queries on unverified answers: held beside the directory, counted, never folded into positions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import UnverifiedAnswer


@dataclass(frozen=True, slots=True)
class UnverifiedCounts:
    """Distinct unverified answers at an account (versions count once), and those per known person."""

    total: int = 0
    by_stakeholder: dict[str, int] = field(default_factory=dict)


def hold(session: AsyncSession, row: UnverifiedAnswer) -> None:
    """Store one unverified answer version."""
    session.add(row)


async def counts(session: AsyncSession, account_id: str) -> UnverifiedCounts:
    """How many unverified answers the account holds, in all and per person the directory knew."""
    rows = await session.execute(
        select(
            UnverifiedAnswer.stakeholder_id, UnverifiedAnswer.known, func.count(distinct(UnverifiedAnswer.response_key))
        )
        .where(UnverifiedAnswer.account_id == account_id)
        .group_by(UnverifiedAnswer.stakeholder_id, UnverifiedAnswer.known),
    )
    total = 0
    by_stakeholder: dict[str, int] = {}
    for stakeholder_id, known, count in rows:
        total += int(count)
        if known and stakeholder_id is not None:
            by_stakeholder[stakeholder_id] = by_stakeholder.get(stakeholder_id, 0) + int(count)
    return UnverifiedCounts(total=total, by_stakeholder=by_stakeholder)
