"""The portfolio's reads: accounts with their model rows, their people and their answers, a query each."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import Account, AccountModel, Response, Stakeholder


async def accounts(session: AsyncSession, *, segments: Sequence[str], limit: int) -> list[tuple[Account, AccountModel]]:
    """Up to ``limit`` accounts the model holds, by id, in ``segments`` (all when empty)."""
    query = select(Account, AccountModel).join(AccountModel, AccountModel.account_id == Account.account_id)
    if segments:
        query = query.where(Account.segment.in_(sorted(set(segments))))
    rows = await session.execute(query.order_by(Account.account_id).limit(limit))
    return [(account, model) for account, model in rows]


async def segments(session: AsyncSession) -> list[str]:
    """Every named segment, alphabetically (for the dashboard's filter)."""
    rows = await session.scalars(
        select(Account.segment).where(Account.segment.is_not(None)).distinct().order_by(Account.segment)
    )
    return [s for s in rows if s is not None]


async def stakeholders(session: AsyncSession, account_ids: Collection[str]) -> dict[str, list[Stakeholder]]:
    """The people of ``account_ids``, per account, by id."""
    if not account_ids:
        return {}
    rows = await session.scalars(
        select(Stakeholder)
        .where(Stakeholder.account_id.in_(sorted(account_ids)))
        .order_by(Stakeholder.account_id, Stakeholder.stakeholder_id)
    )
    found: dict[str, list[Stakeholder]] = {}
    for row in rows:
        found.setdefault(row.account_id, []).append(row)
    return found


async def current_answers(session: AsyncSession, account_ids: Collection[str]) -> dict[str, list[Response]]:
    """The answer versions that count of ``account_ids``, oldest first, per account."""
    if not account_ids:
        return {}
    rows = await session.scalars(
        select(Response)
        .where(Response.account_id.in_(sorted(account_ids)), Response.is_current.is_(True))
        .order_by(Response.account_id, Response.occurred_at, Response.event_id)
    )
    found: dict[str, list[Response]] = {}
    for row in rows:
        found.setdefault(row.account_id, []).append(row)
    return found
