"""Where the state stops in each partition: the next offset to apply, written with the state.

The pattern Kafka's consumer documentation gives for offsets kept outside Kafka: the offsets are
recorded in the same transaction as the changes the records made, and a consumer given a partition
seeks to the recorded offset. A restored backup therefore resumes where its own state stops (not
where Kafka's committed offsets, written after later transactions, say), and a rebuild leaves the
positions it reached for the live consumer to continue from. Kafka's committed offsets are still
written, after each transaction, for lag monitoring and for databases from before this table.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import ConsumerPosition, ProcessedEvent

Partition = tuple[str, int]


def newest(records: Iterable[tuple[str, int, int]]) -> dict[Partition, int]:
    """The next offset per partition after ``(topic, partition, offset)`` records: the last + 1."""
    found: dict[Partition, int] = {}
    for topic, partition, offset in records:
        key = (topic, partition)
        found[key] = max(found.get(key, 0), offset + 1)
    return found


async def advance(session: AsyncSession, positions: dict[Partition, int], *, now: datetime | None = None) -> None:
    """Record that the state now includes every record before these offsets (never moves back)."""
    at = now or datetime.now(UTC)
    for (topic, partition), next_offset in sorted(positions.items()):
        row = await session.get(ConsumerPosition, (topic, partition))
        if row is None:
            session.add(ConsumerPosition(topic=topic, partition=partition, next_offset=next_offset, updated_at=at))
        elif row.next_offset < next_offset:
            row.next_offset, row.updated_at = next_offset, at


async def recorded(session: AsyncSession, topic: str) -> dict[int, int]:
    """The recorded next offset of each partition of ``topic``."""
    rows = await session.execute(
        select(ConsumerPosition.partition, ConsumerPosition.next_offset).where(ConsumerPosition.topic == topic)
    )
    found: dict[int, int] = {}
    for partition, offset in rows:
        found[partition] = offset
    return found


async def predates_positions(session: AsyncSession) -> bool:
    """True for a database that applied events before positions were recorded (none recorded yet)."""
    any_position = await session.scalar(select(exists().where(ConsumerPosition.topic.is_not(None))))
    any_event = await session.scalar(select(exists().where(ProcessedEvent.event_id.is_not(None))))
    return bool(any_event) and not any_position
