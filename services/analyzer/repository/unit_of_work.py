"""The unit of work of one consumer batch: what it read, what it will write, flushed once.

``EventProcessor.process_batch`` opens one ``BatchWork`` for its session (``batch_work``) and the
repositories find it through ``work_of(session)`` (one ContextVar, bound to that session, so the
API, the sweep or another session in the same task never see it). It holds:

- ``read``: the rows the batch's events can reach, read up front (``repository/batch.py``);
- ``known``: which event ids the ledger holds (read in one query, then marked as the batch goes);
- ``processed`` and ``moments``: the ledger rows and journey moments to write, as plain rows that
  ``write`` inserts with one Core multi-row insert per table (no ORM instance, no unit of work);
- ``read.new_responses``: the new answer versions, inserted by ``responses.write_new``.

What stays on the session: the outbox queue, the alert-change counts and the assessment plan, which
the API and the sweep use too and which follow the transaction's commit or rollback.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import JourneyMomentRow, ProcessedEvent
from services.analyzer.repository.batch import BatchState


@dataclass
class BatchWork:
    """What one consumer batch read and will write, for the session that applies it."""

    session: AsyncSession
    read: BatchState = field(default_factory=BatchState)
    known: dict[str, bool] = field(default_factory=dict)  # event id -> the ledger holds it
    processed: list[dict[str, Any]] = field(default_factory=list)  # ledger rows, written by ``write``
    moments: list[dict[str, Any]] = field(default_factory=list)  # journey moment rows, written by ``write``

    async def write(self) -> None:
        """Insert the ledger rows and journey moments queued so far, one multi-row insert per table.

        Plain inserts, not ``ON CONFLICT DO NOTHING``: an id another consumer wrote meanwhile (a
        rebalance) must fail the batch, so that the consumer retries it and finds it a duplicate,
        rather than apply its effects a second time.
        """
        if self.processed:
            rows, self.processed = self.processed, []
            await self.session.execute(insert(ProcessedEvent), rows)
        if self.moments:
            rows, self.moments = self.moments, []
            await self.session.execute(insert(JourneyMomentRow), rows)


# A weak reference: every task and callback created during a batch (the database driver's among them)
# copies the context, and some outlive the batch by seconds; holding the unit of work strongly there
# kept several batches' rows and states alive at once (RSS grew by hundreds of MiB on PostgreSQL).
_CURRENT: ContextVar[weakref.ReferenceType[BatchWork] | None] = ContextVar("analyzer_batch_work", default=None)


def work_of(session: AsyncSession) -> BatchWork | None:
    """The unit of work of the consumer batch ``session`` applies, if any."""
    ref = _CURRENT.get()
    work = ref() if ref is not None else None
    return work if work is not None and work.session is session else None


def batch_of(session: AsyncSession) -> BatchState | None:
    """What the consumer batch ``session`` applies has read, if it applies one."""
    work = work_of(session)
    return work.read if work is not None else None


@contextmanager
def batch_work(session: AsyncSession) -> Iterator[BatchWork]:
    """Open the unit of work of one consumer batch on ``session`` for the duration of the block."""
    work = BatchWork(session)  # this frame holds the only strong reference
    token = _CURRENT.set(weakref.ref(work))
    try:
        yield work
    finally:
        _CURRENT.reset(token)
