"""Publishes the outbox to Kafka after the state that produced it has committed."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.outbox import repository as outbox
from shared.kafka import DurablePublisher, PublishFailed, PublishTimeout, Record

log = logging.getLogger(__name__)


class OutboxRelay:
    """Sends outbox rows to Kafka (acks=all) and stamps them published.

    The consumer hands over the ids its batch wrote right after the commit; a periodic sweep picks
    up whatever a crash or a broker outage left behind. Rows are leased to this relay while it sends
    them (``repository.claim``), so several analyzers on one database never send the same row at once.
    Delivery to Kafka is at-least-once: a crash between the send and the stamp resends the row once
    its lease runs out, and every record carries its stable ``message-id`` header so readers can
    drop the repeat.
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
        # Longer than a publish may take, so a row is never sent by two relays in a crash-free run.
        self._lease = timedelta(seconds=2 * timeout_s + 5)
        self.owner = f"relay-{uuid.uuid4().hex[:12]}"

    async def publish(self, message_ids: Sequence[str] | None = None) -> int:
        """Publish the given messages (or, with None, every row older than the grace period).

        No transaction is held while Kafka is awaited: the rows are read in one short
        transaction, published, then stamped in a second one. A crash between the two resends
        them (at least once, with the stable ``message-id`` header readers dedupe on).
        """
        if message_ids is not None and not message_ids:
            return 0
        async with self._lock:
            sent = 0
            while True:
                async with self._sessions() as session, session.begin():
                    rows = await outbox.claim(
                        session,
                        owner=self.owner,
                        lease=self._lease,
                        message_ids=message_ids,
                        older_than=None if message_ids is not None else self._grace,
                    )
                    ids = [row.id for row in rows]
                    records = [
                        Record(
                            topic=row.topic,
                            key=row.key,
                            value=json.dumps(row.value, separators=(",", ":")).encode(),
                            headers=(("message-id", row.message_id.encode()),),
                        )
                        for row in rows
                    ]
                if not records:
                    return sent
                try:
                    await self._publisher.publish(records, timeout_s=self._timeout_s)
                except BaseException:
                    await self._release(ids)
                    raise
                async with self._sessions() as session, session.begin():
                    await outbox.mark_published(session, ids, owner=self.owner)
                sent += len(records)

    async def _release(self, ids: Sequence[int]) -> None:
        """Give back the leases of rows that were not sent (best effort: they expire anyway)."""
        try:
            async with self._sessions() as session, session.begin():
                await outbox.release(session, ids, owner=self.owner)
        except Exception:
            log.warning("could not release outbox leases; they expire", exc_info=True)

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
