"""The processed-event ledger and the outbox: what makes replays no-ops and publishing reliable."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import OutboxMessage, ProcessedEvent

OUTBOX_KEY = "outbox_enqueued"


OUTBOX_KEY = "outbox_enqueued"
KNOWN_KEY = "ledger_known"


async def prefetch(session: AsyncSession, event_ids: Collection[str]) -> None:
    """Read in one query which of ``event_ids`` the ledger holds, for ``already_processed`` to use.

    A consumer batch asks this once instead of once per event. Ids marked later in the same
    transaction are found in the session (``mark_processed`` adds them to the known set).
    """
    known: dict[str, bool] = session.info.setdefault(KNOWN_KEY, {})
    wanted = [i for i in dict.fromkeys(event_ids) if i not in known]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found = set(await session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.event_id.in_(chunk))))
        known.update({event_id: event_id in found for event_id in chunk})


async def already_processed(session: AsyncSession, event_id: str) -> bool:
    """True if the event was applied (or dead-lettered) before."""
    known: dict[str, bool] = session.info.get(KNOWN_KEY, {})
    if event_id in known:
        return known[event_id]
    return await session.get(ProcessedEvent, event_id) is not None


def mark_processed(
    session: AsyncSession,
    event_id: str,
    *,
    topic: str,
    partition: int,
    offset: int,
    outcome: str,
) -> None:
    """Record the event in the same transaction as its effects."""
    if KNOWN_KEY in session.info:
        session.info[KNOWN_KEY][event_id] = True
    session.add(
        ProcessedEvent(
            event_id=event_id,
            topic=topic,
            partition=partition,
            offset=offset,
            processed_at=datetime.now(UTC),
            outcome=outcome,
        ),
    )


def enqueue(session: AsyncSession, *, message_id: str, topic: str, key: str, value: dict[str, Any]) -> OutboxMessage:
    """Queue a Kafka record in the outbox, inside the caller's transaction."""
    message = OutboxMessage(
        message_id=message_id,
        topic=topic,
        key=key,
        value=value,
        created_at=datetime.now(UTC),
        published_at=None,
    )
    session.add(message)
    # Kept on the session (whose identity map holds objects only weakly) so that the unit of work
    # can hand exactly its own rows to the relay once it has committed.
    session.info.setdefault(OUTBOX_KEY, []).append(message)
    return message


def enqueued(session: AsyncSession) -> list[OutboxMessage]:
    """The outbox rows this session's unit of work created."""
    rows: list[OutboxMessage] = session.info.get(OUTBOX_KEY, [])
    return rows


async def pending(
    session: AsyncSession,
    *,
    ids: Sequence[int] | None = None,
    older_than: timedelta | None = None,
    limit: int = 500,
) -> list[OutboxMessage]:
    """Unpublished outbox rows: the given ids, or those older than a grace period, oldest first."""
    query = select(OutboxMessage).where(OutboxMessage.published_at.is_(None))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if older_than is not None:
        query = query.where(OutboxMessage.created_at < datetime.now(UTC) - older_than)
    return list(await session.scalars(query.order_by(OutboxMessage.id).limit(limit)))


async def mark_published(session: AsyncSession, ids: Sequence[int]) -> None:
    """Stamp rows as published."""
    if ids:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(published_at=datetime.now(UTC)),
        )
