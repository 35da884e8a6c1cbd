"""Publishes the outbox to Kafka after the state that produced it has committed."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.repository import ledger
from shared.kafka import DurablePublisher, PublishFailed, PublishTimeout, Record

log = logging.getLogger(__name__)


class OutboxRelay:
    """Sends outbox rows to Kafka (acks=all) and stamps them published.

    The consumer hands over the ids its batch wrote right after the commit; a periodic sweep picks
    up whatever a crash or a broker outage left behind. Delivery to Kafka is at-least-once: a crash
    between the send and the stamp resends the row, and every record carries its stable
    ``message-id`` header so readers can drop the repeat.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: DurablePublisher,
        *,
        timeout_s: float,
        grace: timedelta = timedelta(seconds=10),
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._timeout_s = timeout_s
        self._grace = grace
        self._lock = asyncio.Lock()

    async def publish(self, ids: Sequence[int] | None = None) -> int:
        """Publish the given rows (or, with None, every row older than the grace period)."""
        if ids is not None and not ids:
            return 0
        async with self._lock:
            sent = 0
            while True:
                async with self._sessions() as session, session.begin():
                    rows = await ledger.pending(
                        session,
                        ids=ids,
                        older_than=None if ids is not None else self._grace,
                    )
                    if not rows:
                        return sent
                    records = [
                        Record(
                            topic=row.topic,
                            key=row.key,
                            value=json.dumps(row.value, separators=(",", ":")).encode(),
                            headers=(("message-id", row.message_id.encode()),),
                        )
                        for row in rows
                    ]
                    await self._publisher.publish(records, timeout_s=self._timeout_s)
                    await ledger.mark_published(session, [row.id for row in rows])
                    sent += len(rows)

    async def sweep_forever(self, interval_s: float) -> None:
        """Every ``interval_s``, publish rows left behind; never raises."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.publish(None)
            except (PublishFailed, PublishTimeout) as exc:
                log.warning("outbox sweep could not reach kafka", extra={"reason": str(exc)})
            except Exception:
                log.exception("outbox sweep failed")
