"""How many alert changes were news, history, or delivered after a backfill: counted on commit.

A change is counted in the transaction that announces it and added to the process's totals only
when that transaction commits, so a batch rolled back and retried is counted once.
"""

from __future__ import annotations

from collections import Counter
from typing import Final, Literal

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

Kind = Literal["news", "history", "backfilled"]
KINDS: Final[tuple[Kind, ...]] = ("news", "history", "backfilled")
PENDING_KEY: Final = "alert_change_counts"
LISTENING_KEY: Final = "alert_change_counts_listening"
COMMITTED_KEY: Final = "alert_change_counts_committed"

TOTALS: Counter[str] = Counter()  # this process's committed counts (exposed on /metrics)


def count(session: AsyncSession, kind: Kind) -> None:
    """Count one alert change of ``kind``, effective when the session's transaction commits."""
    if not session.info.get(LISTENING_KEY):
        session.info[LISTENING_KEY] = True
        sync = session.sync_session
        event.listen(sync, "after_commit", lambda s: s.info.__setitem__(COMMITTED_KEY, True))
        event.listen(sync, "after_rollback", lambda s: s.info.__setitem__(COMMITTED_KEY, False))
        event.listen(sync, "after_transaction_end", _ended)
    session.info.setdefault(PENDING_KEY, Counter())[kind] += 1


def _ended(session: Session, transaction: SessionTransaction) -> None:
    # Releasing or rolling back a SAVEPOINT (webhook deliveries are inserted under one) fires the
    # commit and rollback events too; what the outermost transaction did last decides.
    if transaction.parent is not None:
        return
    pending = session.info.pop(PENDING_KEY, None)
    if session.info.pop(COMMITTED_KEY, False) and pending:
        TOTALS.update(pending)
