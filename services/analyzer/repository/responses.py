"""Queries on answers (``responses``) and journey moments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import JourneyMomentRow, Response
from services.analyzer.repository.unit_of_work import batch_of, work_of


@dataclass(frozen=True, slots=True)
class ResponseStats:
    """How many distinct answers a person has, and when the latest was given."""

    responses: int
    last_response_at: datetime | None


async def current_version(session: AsyncSession, response_key: str, account_id: str) -> Response | None:
    """The version of an answer that currently counts at the account, if any.

    An answer's identity is scoped by account: two accounts' tools may reuse a response id.
    """
    state = batch_of(session)
    if state is not None and response_key in state.response_keys:
        return state.responses.get((response_key, account_id))
    return await session.scalar(
        select(Response).where(
            Response.response_key == response_key,
            Response.account_id == account_id,
            Response.is_current.is_(True),
        ),
    )


async def stats_by_stakeholder(session: AsyncSession, account_id: str) -> dict[str, ResponseStats]:
    """Per stakeholder of the account: distinct answers held (versions count once) and the latest time."""
    rows = await session.execute(
        select(
            Response.stakeholder_id,
            func.count(Response.id),
            func.max(Response.occurred_at),
        )
        .where(Response.account_id == account_id, Response.is_current.is_(True))
        .group_by(Response.stakeholder_id),
    )
    # func.max takes its type from the column, so the UTC handling of UTCDateTime applies.
    return {sid: ResponseStats(responses=int(count), last_response_at=last) for sid, count, last in rows}


def add_moment(session: AsyncSession, row: dict[str, Any]) -> None:
    """Store a journey moment (the columns of ``JourneyMomentRow``).

    In a consumer batch it joins the batch's unit of work, inserted with the others in one statement
    before the batch's evaluations (a rebuild reads the moments back); otherwise the session writes
    it at its next flush.
    """
    work = work_of(session)
    if work is None:
        session.add(JourneyMomentRow(**row))
    else:
        work.moments.append(row)


async def every_version(session: AsyncSession, account_id: str) -> list[Response]:
    """Every version of every answer of the account (a rebuild folds them in event time)."""
    state = batch_of(session)
    rows = list(await session.scalars(select(Response).where(Response.account_id == account_id)))
    if state is not None:
        rows += [r for r in state.new_responses if r.account_id == account_id]  # not written yet
    return rows


async def moments(session: AsyncSession, account_id: str) -> list[JourneyMomentRow]:
    """Every journey moment of the account."""
    return list(await session.scalars(select(JourneyMomentRow).where(JourneyMomentRow.account_id == account_id)))


async def latest_moments(session: AsyncSession, account_id: str, *, limit: int) -> list[JourneyMomentRow]:
    """The account's latest ``limit`` journey moments, oldest first."""
    rows = await session.scalars(
        select(JourneyMomentRow)
        .where(JourneyMomentRow.account_id == account_id)
        .order_by(JourneyMomentRow.occurred_at.desc(), JourneyMomentRow.event_id)
        .limit(limit)
    )
    return sorted(rows, key=lambda m: (m.occurred_at, m.event_id))


async def current_answers(session: AsyncSession, account_id: str) -> list[Response]:
    """The versions of the account's answers that count, oldest first."""
    rows = await session.scalars(
        select(Response)
        .where(Response.account_id == account_id, Response.is_current.is_(True))
        .order_by(Response.occurred_at, Response.event_id),
    )
    return list(rows)


def add(session: AsyncSession, row: Response) -> None:
    """Hold a new answer version; in a consumer batch it is written with the others at the end."""
    state = batch_of(session)
    if state is None:
        session.add(row)
        return
    # Not added to the session: an ORM insert returns each row's id, one statement per row. The
    # batch keeps the object (so a later version in the same batch can still demote it) and
    # ``write_new`` inserts them all at once.
    state.new_responses.append(row)
    if row.is_current:
        state.response_keys.add(row.response_key)
        state.responses[(row.response_key, row.account_id)] = row


async def write_new(session: AsyncSession) -> None:
    """Insert the answer versions a consumer batch added, in one multi-row insert."""
    state = batch_of(session)
    if state is None or not state.new_responses:
        return
    columns = [c.key for c in Response.__table__.columns if c.key != "id"]
    await session.execute(insert(Response), [{c: getattr(r, c) for c in columns} for r in state.new_responses])
    state.new_responses.clear()
