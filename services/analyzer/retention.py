"""Bounded storage: rows that only record what was already sent are deleted after a retention.

- A published outbox row has done its work once Kafka acknowledged it: it is kept for
  ``ANALYZER_OUTBOX_RETENTION_S`` (7 days) so an operator can still see what went out, then deleted.
- A finished webhook delivery (delivered, or failed for good) and its attempts are kept for
  ``WEBHOOK_DELIVERY_RETENTION_S`` (30 days), the history ``GET /v1/subscriptions/{id}/deliveries``
  shows and a replay can resend, then deleted. A pending delivery is never deleted.
- A processed event's id is kept in the ledger for ``ANALYZER_DEDUP_WINDOW_S`` (7 days), longer than
  any client or vendor retries, then deleted. A duplicate arriving later still changes nothing: the
  answer, moment or held answer it left is found by its id (``repository/ledger.py``), and a replay
  from Kafka starts at the positions recorded with the state, not before them.

Both retentions must outlast ``ALERT_NEWS_HORIZON_S`` (3 days): a replay of an alert change younger
than the news horizon (after a restore) finds its delivery by ``webhook-id`` and does not send it
again while the row is kept. Every analyzer instance prunes; the deletes are idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.db.errors import is_outage
from services.analyzer.outbox import repository as outbox_repository
from services.analyzer.repository import ledger
from services.analyzer.webhooks import repository as webhook_repository

log = logging.getLogger(__name__)

# Rows deleted per statement, so that no delete holds its locks (SQLite: the write lock) for long.
CHUNK: Final = 2000


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows one round deleted."""

    outbox: int = 0
    deliveries: int = 0
    processed: int = 0


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    *,
    outbox_retention: timedelta,
    delivery_retention: timedelta,
    dedup_window: timedelta | None = None,
    now: datetime | None = None,
) -> Pruned:
    """Delete what outlived its retention, a chunk per short transaction; return the counts."""
    now = now or datetime.now(UTC)
    counts = {"outbox": 0, "deliveries": 0, "processed": 0}
    steps = [
        ("outbox", outbox_repository.delete_published_before, now - outbox_retention),
        ("deliveries", webhook_repository.delete_finished_before, now - delivery_retention),
    ]
    if dedup_window is not None:
        steps.append(("processed", ledger.delete_processed_before, now - dedup_window))
    for name, chunk, before in steps:
        while True:
            async with sessions() as session, session.begin():
                deleted = await chunk(session, before, limit=CHUNK)
            counts[name] += deleted
            if deleted < CHUNK:
                break
    return Pruned(**counts)


async def prune_forever(
    sessions: async_sessionmaker[AsyncSession],
    *,
    interval_s: float,
    outbox_retention: timedelta,
    delivery_retention: timedelta,
    dedup_window: timedelta | None = None,
) -> None:
    """Prune every ``interval_s`` seconds; never raises (an outage is retried at the next round)."""
    while True:
        try:
            pruned = await prune(
                sessions,
                outbox_retention=outbox_retention,
                delivery_retention=delivery_retention,
                dedup_window=dedup_window,
            )
        except Exception as exc:
            if not is_outage(exc):
                log.exception("pruning failed")
            else:
                log.warning("pruning skipped: database unreachable", extra={"reason": str(exc)[:200]})
        else:
            if pruned.outbox or pruned.deliveries or pruned.processed:
                log.info("pruned", extra=asdict(pruned))
        await asyncio.sleep(interval_s)
