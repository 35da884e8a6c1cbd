"""Bounded storage: published outbox rows and finished webhook deliveries go after their retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.analyzer.db.models import OutboxMessage
from services.analyzer.db.webhook_models import Delivery, DeliveryAttempt, Subscription
from services.analyzer.retention import CHUNK, prune
from tests.analyzer.helpers import sessions_for

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def outbox_row(message_id: str, *, created: datetime, published: datetime | None) -> OutboxMessage:
    return OutboxMessage(
        message_id=message_id, topic="t", key="k", value={}, created_at=created, published_at=published
    )


def delivery(msg_id: str, status: str, *, created: datetime, delivered: datetime | None = None) -> Delivery:
    return Delivery(
        subscription_id="sub_1",
        msg_id=msg_id,
        event_type="alert.opened",
        body="{}",
        status=status,
        attempts=1,
        schedule_step=0,
        next_attempt_at=None if status != "pending" else created,
        created_at=created,
        delivered_at=delivered,
    )


async def test_only_rows_past_their_retention_that_did_their_work_are_deleted(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        async with sessions() as session, session.begin():
            session.add_all(
                [
                    outbox_row("old-sent", created=NOW - 9 * DAY, published=NOW - 8 * DAY),
                    outbox_row("young-sent", created=NOW - 2 * DAY, published=NOW - 2 * DAY),
                    outbox_row("old-unsent", created=NOW - 9 * DAY, published=None),  # never: Kafka must get it
                    Subscription(
                        id="sub_1",
                        url="https://crm.example/hook",
                        event_types=["alert.opened"],
                        account_ids=None,
                        segments=None,
                        secret="whsec_x",
                        status="active",
                        created_at=NOW - 60 * DAY,
                        updated_at=NOW - 60 * DAY,
                    ),
                ]
            )
        async with sessions() as session, session.begin():
            session.add_all(
                [
                    delivery("old-delivered", "delivered", created=NOW - 40 * DAY, delivered=NOW - 40 * DAY),
                    delivery("old-failed", "failed", created=NOW - 40 * DAY),
                    delivery("old-pending", "pending", created=NOW - 40 * DAY),  # still owed to the receiver
                    delivery("young-delivered", "delivered", created=NOW - 5 * DAY, delivered=NOW - 5 * DAY),
                ]
            )
        async with sessions() as session, session.begin():
            for row in await session.scalars(select(Delivery)):
                session.add(DeliveryAttempt(delivery_id=row.id, attempted_at=row.created_at, status_code=200))

        pruned = await prune(sessions, outbox_retention=7 * DAY, delivery_retention=30 * DAY, now=NOW)

        assert (pruned.outbox, pruned.deliveries) == (1, 2)
        async with sessions() as session:
            outbox = set(await session.scalars(select(OutboxMessage.message_id)))
            deliveries = set(await session.scalars(select(Delivery.msg_id)))
            attempts = await session.scalar(select(func.count()).select_from(DeliveryAttempt))
        assert outbox == {"young-sent", "old-unsent"}
        assert deliveries == {"old-pending", "young-delivered"}
        assert attempts == 2, "the attempts of the deleted deliveries went with them"

        again = await prune(sessions, outbox_retention=7 * DAY, delivery_retention=30 * DAY, now=NOW)
        assert (again.outbox, again.deliveries) == (0, 0)


async def test_a_backlog_larger_than_a_chunk_is_deleted_in_several(sqlite_url: str) -> None:
    rows = CHUNK + 7
    async with sessions_for(sqlite_url) as sessions:
        async with sessions() as session, session.begin():
            session.add_all(outbox_row(f"m{n}", created=NOW - 9 * DAY, published=NOW - 8 * DAY) for n in range(rows))
        pruned = await prune(sessions, outbox_retention=7 * DAY, delivery_retention=30 * DAY, now=NOW)
        assert pruned.outbox == rows
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
