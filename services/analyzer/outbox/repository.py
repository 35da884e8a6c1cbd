"""The outbox: Kafka records written with the state change that caused them, leased and stamped by the relay, pruned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from services.analyzer.db.models import OutboxMessage

OUTBOX_KEY = "outbox_enqueued"
WRITTEN_KEY = "outbox_written"
HOOKED_KEY = "outbox_hooked"
ROLLED_BACK_KEY = "outbox_rolled_back"


def enqueue(session: AsyncSession, *, message_id: str, topic: str, key: str, value: dict[str, Any]) -> None:
    """Queue a Kafka record in the outbox, inside the caller's transaction.

    The rows are written in one multi-row insert just before the transaction commits (an ORM
    insert per row would return each row's id, one statement at a time), so they commit with the
    state change that caused them or not at all.
    """
    if not session.info.get(HOOKED_KEY):
        session.info[HOOKED_KEY] = True
        event.listen(session.sync_session, "before_commit", _write_outbox)
        event.listen(session.sync_session, "after_commit", _note_commit)
        event.listen(session.sync_session, "after_rollback", _note_rollback)
        event.listen(session.sync_session, "after_transaction_end", _forget_outbox)
    session.info.setdefault(OUTBOX_KEY, []).append(
        {
            "message_id": message_id,
            "topic": topic,
            "key": key,
            "value": value,
            "created_at": datetime.now(UTC),
            "published_at": None,
        },
    )


def _write_outbox(session: Session) -> None:
    rows: list[dict[str, Any]] = session.info.get(OUTBOX_KEY, [])
    written: int = session.info.get(WRITTEN_KEY, 0)
    if len(rows) > written:
        session.execute(insert(OutboxMessage), rows[written:])
        session.info[WRITTEN_KEY] = len(rows)


def _note_commit(session: Session) -> None:
    session.info[ROLLED_BACK_KEY] = False


def _note_rollback(session: Session) -> None:
    session.info[ROLLED_BACK_KEY] = True


def _forget_outbox(session: Session, transaction: SessionTransaction) -> None:
    # Whatever was queued in a transaction that rolled back was never written. Rolling back a
    # SAVEPOINT (webhook deliveries are inserted under one) fires the rollback event too, while the
    # transaction goes on and will write its queue: only the end of the outermost one decides.
    if transaction.parent is None and session.info.pop(ROLLED_BACK_KEY, False):
        session.info.pop(OUTBOX_KEY, None)
        session.info.pop(WRITTEN_KEY, None)


def enqueued(session: AsyncSession) -> list[str]:
    """The message ids of the outbox rows this session's unit of work queued."""
    return [row["message_id"] for row in session.info.get(OUTBOX_KEY, [])]


async def claim(
    session: AsyncSession,
    *,
    owner: str,
    lease: timedelta,
    message_ids: Sequence[str] | None = None,
    older_than: timedelta | None = None,
    limit: int = 500,
    now: datetime | None = None,
) -> list[OutboxMessage]:
    """Lease unpublished rows to ``owner``: the given messages, or those older than a grace period.

    A row another relay holds an unexpired lease on is skipped, so several analyzers on one database
    never send the same row at once. On PostgreSQL the rows are locked with SKIP LOCKED while they
    are claimed, so concurrent claims take different rows; on SQLite the writer's transaction holds
    the write lock from BEGIN, which serialises claims. The caller commits.
    """
    now = now or datetime.now(UTC)
    query = select(OutboxMessage).where(
        OutboxMessage.published_at.is_(None),
        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
    )
    if message_ids is not None:
        query = query.where(OutboxMessage.message_id.in_(message_ids))
    if older_than is not None:
        query = query.where(OutboxMessage.created_at < now - older_than)
    query = query.order_by(OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    for row in rows:
        row.lease_until, row.lease_owner = now + lease, owner
    return rows


async def mark_published(session: AsyncSession, ids: Sequence[int], *, owner: str) -> None:
    """Stamp rows this relay sent as published (and drop their lease)."""
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == owner)
            .values(published_at=datetime.now(UTC), lease_until=None, lease_owner=None),
        )


async def release(session: AsyncSession, ids: Sequence[int], *, owner: str) -> None:
    """Give back the leases of rows this relay could not send, so any relay can try them at once."""
    if ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.lease_owner == owner)
            .values(lease_until=None, lease_owner=None),
        )


async def drop_all(session: AsyncSession) -> None:
    """Delete every outbox row, published or not (a rebuild publishes nothing: the topics hold it already)."""
    await session.execute(delete(OutboxMessage))


async def delete_published_before(session: AsyncSession, before: datetime, *, limit: int) -> int:
    """Delete up to ``limit`` rows published before ``before``, oldest first; return how many."""
    ids = list(
        await session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.published_at.is_not(None), OutboxMessage.published_at < before)
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )
    if ids:
        await session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return len(ids)
