"""Every database query of outbound webhooks."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.webhook_models import Delivery, DeliveryAttempt, Subscription
from services.analyzer.webhooks.schemas import DeliveryStatus, SubscriptionStatus

# Short names the queries and their callers use (the vocabularies are in schemas.py).
ACTIVE, DISABLED = SubscriptionStatus.ACTIVE, SubscriptionStatus.DISABLED
PENDING, DELIVERED, FAILED = DeliveryStatus.PENDING, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED


SUBSCRIPTIONS_KEY = "active_subscriptions"


async def active_subscriptions(session: AsyncSession) -> Sequence[Subscription]:
    """Every subscription that receives deliveries, read once per unit of work (a consumer batch
    enqueues many alert changes; the subscriptions do not change under it in one transaction)."""
    cached: Sequence[Subscription] | None = session.info.get(SUBSCRIPTIONS_KEY)
    if cached is None:
        cached = (await session.scalars(select(Subscription).where(Subscription.status == ACTIVE))).all()
        session.info[SUBSCRIPTIONS_KEY] = cached
    return cached


async def existing_msg_ids(session: AsyncSession, msg_ids: Collection[str]) -> set[str]:
    """Which of these message ids already have a delivery."""
    if not msg_ids:
        return set()
    return set(await session.scalars(select(Delivery.msg_id).where(Delivery.msg_id.in_(msg_ids))))


async def get_subscription(session: AsyncSession, subscription_id: str) -> Subscription | None:
    """One subscription, or None."""
    return await session.get(Subscription, subscription_id)


# An arbitrary constant naming the PostgreSQL advisory lock that serialises subscription creation.
_CREATE_LOCK = 0x5EB5C817


async def count_subscriptions(session: AsyncSession, *, for_create: bool = False) -> int:
    """How many subscriptions exist, active or disabled.

    ``for_create``: first take a lock held until the transaction ends, so concurrent creations count one
    after another and together never pass a cap (on SQLite the writer transaction already holds the lock).
    """
    if for_create and session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_CREATE_LOCK)))
    return int(await session.scalar(select(func.count()).select_from(Subscription)) or 0)


async def list_subscriptions(session: AsyncSession) -> Sequence[Subscription]:
    """Every subscription, oldest first."""
    return (await session.scalars(select(Subscription).order_by(Subscription.created_at, Subscription.id))).all()


async def delete_subscription(session: AsyncSession, subscription_id: str) -> bool:
    """Delete a subscription with its deliveries and attempts; False if there was none."""
    deliveries = select(Delivery.id).where(Delivery.subscription_id == subscription_id)
    # Explicit deletes instead of relying on ON DELETE CASCADE, which SQLite only honours with its pragma on.
    await session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(deliveries)))
    await session.execute(delete(Delivery).where(Delivery.subscription_id == subscription_id))
    result = await session.execute(delete(Subscription).where(Subscription.id == subscription_id))
    return bool(getattr(result, "rowcount", 0))


async def get_delivery(session: AsyncSession, subscription_id: str, delivery_id: int) -> Delivery | None:
    """One delivery of one subscription, or None."""
    delivery = await session.get(Delivery, delivery_id)
    return delivery if delivery is not None and delivery.subscription_id == subscription_id else None


async def list_deliveries(
    session: AsyncSession,
    subscription_id: str,
    *,
    status: DeliveryStatus | None,
    limit: int,
) -> list[tuple[Delivery, list[DeliveryAttempt]]]:
    """A subscription's deliveries, newest first, each with its attempts in order."""
    query = select(Delivery).where(Delivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    deliveries = (await session.scalars(query.order_by(Delivery.id.desc()).limit(limit))).all()
    attempts: dict[int, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        rows = await session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(list(attempts))).order_by(DeliveryAttempt.id),
        )
        for attempt in rows:
            attempts[attempt.delivery_id].append(attempt)
    return [(d, attempts[d.id]) for d in deliveries]


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    owner: str,
    lease_until: datetime,
    limit: int,
    exclude_subscriptions: Collection[str],
    exclude_deliveries: Collection[int] = (),
) -> list[tuple[Delivery, Subscription]]:
    """Lease up to ``limit`` due deliveries of active subscriptions to ``owner``; the caller commits.

    On PostgreSQL the rows are locked with SKIP LOCKED, so concurrent dispatchers take different rows; on
    SQLite the dispatcher's transaction holds the write lock from BEGIN, which serialises claims.
    """
    query = (
        select(Delivery, Subscription)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .where(
            Delivery.status == PENDING,
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
            Subscription.status == ACTIVE,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if exclude_subscriptions:
        query = query.where(Delivery.subscription_id.not_in(list(exclude_subscriptions)))
    if exclude_deliveries:
        query = query.where(Delivery.id.not_in(list(exclude_deliveries)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Delivery, skip_locked=True)
    rows = [(delivery, sub) for delivery, sub in (await session.execute(query)).all()]
    for delivery, _ in rows:
        delivery.lease_until = lease_until
        delivery.lease_owner = owner
    return rows


async def release_leases(session: AsyncSession, *, owner: str, delivery_ids: Collection[int]) -> None:
    """Give back leases so another dispatcher (or this one after a restart) can send at once."""
    if delivery_ids:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(list(delivery_ids)), Delivery.lease_owner == owner)
            .values(lease_until=None, lease_owner=None),
        )


async def failed_deliveries(session: AsyncSession, subscription_id: str) -> Sequence[Delivery]:
    """A subscription's failed deliveries."""
    query = select(Delivery).where(Delivery.subscription_id == subscription_id, Delivery.status == FAILED)
    return (await session.scalars(query)).all()


async def delete_finished_before(session: AsyncSession, before: datetime, *, limit: int) -> int:
    """Delete up to ``limit`` deliveries finished (delivered, or failed for good) before ``before``; return how many.

    Their attempts go with them (ON DELETE CASCADE). A pending delivery is never deleted.
    """
    finished = func.coalesce(Delivery.delivered_at, Delivery.created_at)
    ids = list(
        await session.scalars(
            select(Delivery.id)
            .where(Delivery.status.in_((DELIVERED, FAILED)), finished < before)
            .order_by(Delivery.id)
            .limit(limit)
        )
    )
    if ids:
        await session.execute(delete(Delivery).where(Delivery.id.in_(ids)))
    return len(ids)
