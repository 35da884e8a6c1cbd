"""Reads the comments of current answers with their author's role (the verbatims' only I/O).

Nothing derived is stored: verbatims are computed from ``responses.comment`` on every read, so the
erasure of a person (which deletes their answers) removes their verbatims with them.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import Response, Stakeholder
from services.analyzer.verbatims.summary import Comment


async def comments(session: AsyncSession, account_ids: Collection[str]) -> dict[str, list[Comment]]:
    """The non-empty comments of the current answers of ``account_ids``, oldest first, per account."""
    if not account_ids:
        return {}
    rows = await session.execute(
        select(
            Response.account_id,
            Response.stakeholder_id,
            Stakeholder.role,
            Stakeholder.side,
            Response.occurred_at,
            Response.event_id,
            Response.comment,
        )
        .join(
            Stakeholder,
            and_(Stakeholder.account_id == Response.account_id, Stakeholder.stakeholder_id == Response.stakeholder_id),
        )
        .where(
            Response.account_id.in_(sorted(account_ids)),
            Response.is_current.is_(True),
            Response.comment.is_not(None),
            func.length(func.trim(Response.comment)) > 0,
        )
        .order_by(Response.occurred_at, Response.event_id)
    )
    found: dict[str, list[Comment]] = {}
    for account_id, stakeholder_id, role, side, at, event_id, text in rows:
        found.setdefault(account_id, []).append(Comment(stakeholder_id, role, side, at, event_id, text or ""))
    return found
