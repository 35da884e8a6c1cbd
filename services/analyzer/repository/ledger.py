"""The processed-event ledger and the outbox: what makes replays no-ops and publishing reliable."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from services.analyzer.db.models import (
    JourneyMomentRow,
    OutboxMessage,
    ProcessedEvent,
    Response,
    UnattributedAnswer,
    UnverifiedAnswer,
)
from services.analyzer.repository.unit_of_work import work_of

OUTBOX_KEY = "outbox_enqueued"
WRITTEN_KEY = "outbox_written"
HOOKED_KEY = "outbox_hooked"
ROLLED_BACK_KEY = "outbox_rolled_back"


async def prefetch(
    session: AsyncSession,
    event_ids: Collection[str],
    *,
    published_ms: Mapping[str, int | None] | None = None,
    dedup_window: timedelta | None = None,
) -> None:
    """Read in one query which of ``event_ids`` the ledger holds, for ``already_processed`` to use.

    A consumer batch asks this once instead of once per event, into its unit of work
    (``repository/unit_of_work.py``); ids marked later in the batch are found there too
    (``mark_processed`` adds them). Outside a consumer batch it does nothing.

    With ``dedup_window`` (the ledger's rows are pruned after it: ``retention.py``), an id the ledger
    does not hold may still have been applied, longer ago than the window. For a record published
    before the window could have pruned it (``published_ms``; unknown counts as old), the facts the
    event left are looked up too: an answer, a journey moment, a waiting or unverified answer with its
    id. Found, it is a duplicate. A record published since cannot have lost its row, so the live
    stream pays nothing for this.
    """
    work = work_of(session)
    if work is None:
        return
    known = work.known
    wanted = [i for i in dict.fromkeys(event_ids) if i not in known]
    cutoff_ms = _cutoff_ms(dedup_window)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found = set(await session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.event_id.in_(chunk))))
        if cutoff_ms is not None:
            stale = [i for i in chunk if i not in found and _published_before((published_ms or {}).get(i), cutoff_ms)]
            found |= await applied_facts(session, stale)
        known.update({event_id: event_id in found for event_id in chunk})


def _cutoff_ms(dedup_window: timedelta | None) -> int | None:
    if dedup_window is None:
        return None
    # A margin for the producer's clock (Kafka's timestamps are the producer's): never less than half
    # the window, never more than five minutes.
    margin = min(timedelta(minutes=5), dedup_window / 2)
    return int((datetime.now(UTC) - dedup_window + margin).timestamp() * 1000)


def _published_before(published: int | None, cutoff_ms: int) -> bool:
    return published is None or published < cutoff_ms


async def applied_facts(session: AsyncSession, event_ids: Sequence[str]) -> set[str]:
    """Which of ``event_ids`` left a fact keyed by their id: an answer, a moment, a held answer."""
    if not event_ids:
        return set()
    found: set[str] = set()
    for column in (
        Response.event_id,
        JourneyMomentRow.event_id,
        UnattributedAnswer.event_id,
        UnverifiedAnswer.event_id,
    ):
        found |= set(await session.scalars(select(column).where(column.in_(event_ids))))
    return found


async def already_processed(session: AsyncSession, event_id: str) -> bool:
    """True if the event was applied (or dead-lettered) before."""
    work = work_of(session)
    if work is not None and event_id in work.known:
        return work.known[event_id]
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
    """Record the event in the same transaction as its effects.

    In a consumer batch the row joins the batch's unit of work, written with the others in one
    insert (``BatchWork.write``); otherwise the session writes it at its next flush.
    """
    row = {
        "event_id": event_id,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "processed_at": datetime.now(UTC),
        "outcome": outcome,
    }
    work = work_of(session)
    if work is None:
        session.add(ProcessedEvent(**row))
        return
    work.known[event_id] = True
    work.processed.append(row)


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
