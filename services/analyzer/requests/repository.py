"""Every query on survey requests and request rounds, and on the people and answers they read."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import Response, Stakeholder
from services.analyzer.db.request_models import RequestRound, SurveyRequest
from services.analyzer.requests.schemas import RequestStatus

# Short names the queries and their callers use (the vocabulary is in schemas.py).
PENDING, FULFILLED, EXPIRED = RequestStatus.PENDING, RequestStatus.FULFILLED, RequestStatus.EXPIRED


def effective_status(row: SurveyRequest, now: datetime) -> RequestStatus:
    """The request's status as of ``now``: a pending request past its expiry is expired."""
    if row.status == PENDING and row.expires_at <= now:
        return EXPIRED
    return row.status


async def get(session: AsyncSession, request_id: str) -> SurveyRequest | None:
    """One request, or None."""
    return await session.get(SurveyRequest, request_id)


def add(session: AsyncSession, row: SurveyRequest) -> None:
    """Hold a new request."""
    session.add(row)


async def account_requests(session: AsyncSession, account_id: str) -> list[SurveyRequest]:
    """Every request of an account, oldest first."""
    query = select(SurveyRequest).where(SurveyRequest.account_id == account_id)
    return list(await session.scalars(query.order_by(SurveyRequest.created_at, SurveyRequest.request_id)))


async def last_answers(session: AsyncSession, account_id: str) -> dict[str, datetime]:
    """When each person of the account last answered (any answer held for them)."""
    query = (
        select(Response.stakeholder_id, func.max(Response.occurred_at))
        .where(Response.account_id == account_id)
        .group_by(Response.stakeholder_id)
    )
    return {sid: at for sid, at in (await session.execute(query)).all() if at is not None}


async def people_of_accounts(session: AsyncSession, account_ids: Collection[str]) -> dict[str, list[Stakeholder]]:
    """The stakeholders of several accounts (one query), per account, ordered by id."""
    if not account_ids:
        return {}
    query = select(Stakeholder).where(Stakeholder.account_id.in_(sorted(account_ids)))
    found: dict[str, list[Stakeholder]] = {}
    for row in await session.scalars(query.order_by(Stakeholder.account_id, Stakeholder.stakeholder_id)):
        found.setdefault(row.account_id, []).append(row)
    return found


async def last_answers_of_accounts(
    session: AsyncSession, account_ids: Collection[str]
) -> dict[str, dict[str, datetime]]:
    """When each person of several accounts (one query) last answered, per account and person."""
    if not account_ids:
        return {}
    query = (
        select(Response.account_id, Response.stakeholder_id, func.max(Response.occurred_at))
        .where(Response.account_id.in_(sorted(account_ids)))
        .group_by(Response.account_id, Response.stakeholder_id)
    )
    found: dict[str, dict[str, datetime]] = {}
    for account_id, stakeholder_id, at in (await session.execute(query)).all():
        if at is not None:
            found.setdefault(account_id, {})[stakeholder_id] = at
    return found


async def search(
    session: AsyncSession,
    *,
    account_id: str | None,
    stakeholder_id: str | None,
    status: str | None,
    now: datetime,
    limit: int,
    offset: int,
) -> Sequence[SurveyRequest]:
    """Requests filtered by account, person and status (as of ``now``), newest first."""
    query = select(SurveyRequest)
    if account_id is not None:
        query = query.where(SurveyRequest.account_id == account_id)
    if stakeholder_id is not None:
        query = query.where(SurveyRequest.stakeholder_id == stakeholder_id)
    if status == PENDING:
        query = query.where(SurveyRequest.status == PENDING, SurveyRequest.expires_at > now)
    elif status == EXPIRED:
        query = query.where(
            (SurveyRequest.status == EXPIRED) | ((SurveyRequest.status == PENDING) & (SurveyRequest.expires_at <= now))
        )
    elif status is not None:
        query = query.where(SurveyRequest.status == status)
    query = query.order_by(SurveyRequest.created_at.desc(), SurveyRequest.request_id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def expire_overdue(session: AsyncSession, account_id: str, now: datetime) -> int:
    """Stamp the account's pending requests past their expiry as expired; return how many."""
    result = await session.execute(
        update(SurveyRequest)
        .where(SurveyRequest.account_id == account_id, SurveyRequest.status == PENDING, SurveyRequest.expires_at <= now)
        .values(status=EXPIRED)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def last_round(session: AsyncSession, account_id: str) -> RequestRound | None:
    """When the account was last asked on cadence, or None."""
    return await session.get(RequestRound, account_id)


async def note_round(session: AsyncSession, account_id: str, at: datetime) -> None:
    """Remember that the account was asked on cadence at ``at``."""
    held = await session.get(RequestRound, account_id)
    if held is None:
        session.add(RequestRound(account_id=account_id, last_round_at=at))
    else:
        held.last_round_at = at


async def delete_for_people(session: AsyncSession, people: Sequence[tuple[str, str]]) -> int:
    """Delete every request of the people (an erasure); return how many."""
    if not people:
        return 0
    result = await session.execute(
        delete(SurveyRequest).where(tuple_(SurveyRequest.account_id, SurveyRequest.stakeholder_id).in_(people))
    )
    return int(getattr(result, "rowcount", 0) or 0)
