"""The processed-event ledger: what makes replays no-ops (the outbox, what makes publishing reliable: ``outbox/``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import (
    JourneyMomentRow,
    ProcessedEvent,
    Response,
    UnattributedAnswer,
    UnverifiedAnswer,
)
from services.analyzer.repository.unit_of_work import work_of


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


async def is_empty(session: AsyncSession) -> bool:
    """Whether the ledger holds no processed event (a fresh database, as a rebuild needs)."""
    return not await session.scalar(select(func.count()).select_from(ProcessedEvent))


async def delete_processed_before(session: AsyncSession, before: datetime, *, limit: int) -> int:
    """Delete up to ``limit`` ledger rows of events processed before ``before``; return how many."""
    ids = list(
        await session.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.processed_at < before).limit(limit))
    )
    if ids:
        await session.execute(delete(ProcessedEvent).where(ProcessedEvent.event_id.in_(ids)))
    return len(ids)
