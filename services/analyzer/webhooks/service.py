"""The logic of the subscriptions API: creation with target vetting, rotation, replay, re-enabling."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.webhook_models import Delivery, DeliveryAttempt, Subscription
from services.analyzer.settings import AnalyzerSettings
from services.analyzer.webhooks import repository
from services.analyzer.webhooks.schemas import (
    AttemptView,
    DeliveryView,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionView,
)
from services.analyzer.webhooks.signing import generate_secret
from services.analyzer.webhooks.ssrf import ForbiddenTarget, vet_at_creation
from shared.errors import Conflict, InvalidRequest, NotFound


async def create(session: AsyncSession, settings: AnalyzerSettings, body: SubscriptionCreate) -> SubscriptionCreated:
    """Vet the URL, store the subscription with a fresh secret, and return it with the secret.

    409 once ``WEBHOOK_MAX_SUBSCRIPTIONS`` exist.
    """
    count = await repository.count_subscriptions(session, for_create=True)
    if count >= settings.webhook_max_subscriptions:
        raise Conflict(
            f"the analyzer already has {count} subscriptions, the most WEBHOOK_MAX_SUBSCRIPTIONS allows "
            f"({settings.webhook_max_subscriptions}); delete one first"
        )
    try:
        vet_at_creation(body.url, settings.webhook_allow_private_targets)
    except ForbiddenTarget as exc:
        raise InvalidRequest(
            [{"field": "url", "message": f"forbidden target: {exc.reason}", "type": "forbidden_target"}],
        ) from exc
    now = datetime.now(UTC)
    sub = Subscription(
        id=f"sub_{uuid.uuid4().hex}",
        url=body.url,
        event_types=list(dict.fromkeys(body.event_types)),
        account_ids=body.account_ids,
        segments=body.segments,
        description=body.description,
        secret=generate_secret(),
        status=repository.ACTIVE,
        created_at=now,
        updated_at=now,
    )
    session.add(sub)
    await session.flush()
    return SubscriptionCreated(**view(sub).model_dump(), secret=sub.secret)


async def require(session: AsyncSession, subscription_id: str) -> Subscription:
    """The subscription, or 404."""
    sub = await repository.get_subscription(session, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription {subscription_id!r}")
    return sub


async def rotate_secret(
    session: AsyncSession,
    settings: AnalyzerSettings,
    subscription_id: str,
    overlap_seconds: float | None,
) -> SecretRotated:
    """Replace the secret; the old one keeps signing (a second ``v1,`` signature) during the overlap."""
    sub = await require(session, subscription_id)
    now = datetime.now(UTC)
    overlap = settings.webhook_secret_overlap_s if overlap_seconds is None else overlap_seconds
    sub.previous_secret = sub.secret if overlap > 0 else None
    sub.previous_secret_expires_at = now + timedelta(seconds=overlap) if overlap > 0 else None
    sub.secret, sub.updated_at = generate_secret(), now
    return SecretRotated(id=sub.id, secret=sub.secret, previous_secret_expires_at=sub.previous_secret_expires_at)


async def enable(session: AsyncSession, subscription_id: str) -> SubscriptionView:
    """Re-enable a disabled subscription; its waiting deliveries go out again."""
    sub = await require(session, subscription_id)
    now = datetime.now(UTC)
    sub.status, sub.disabled_reason, sub.disabled_at, sub.failing_since, sub.updated_at = (
        repository.ACTIVE,
        None,
        None,
        None,
        now,
    )
    return view(sub)


def _requeue(delivery: Delivery, now: datetime) -> None:
    """Queue a delivery again with the same ``webhook-id`` and a fresh retry schedule."""
    delivery.status, delivery.schedule_step, delivery.next_attempt_at = repository.PENDING, 0, now
    delivery.lease_until, delivery.lease_owner = None, None


async def replay_one(session: AsyncSession, subscription_id: str, delivery_id: int) -> DeliveryView:
    """Send one delivery again (same message, same ``webhook-id``)."""
    sub = await require(session, subscription_id)
    if sub.status != repository.ACTIVE:
        raise Conflict(f"subscription {subscription_id!r} is disabled; enable it first")
    delivery = await repository.get_delivery(session, subscription_id, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id} for subscription {subscription_id!r}")
    _requeue(delivery, datetime.now(UTC))
    return delivery_view(delivery, [])


async def replay_failed(session: AsyncSession, subscription_id: str) -> int:
    """Send every failed delivery of the subscription again; return how many."""
    sub = await require(session, subscription_id)
    if sub.status != repository.ACTIVE:
        raise Conflict(f"subscription {subscription_id!r} is disabled; enable it first")
    now = datetime.now(UTC)
    failed = await repository.failed_deliveries(session, subscription_id)
    for delivery in failed:
        _requeue(delivery, now)
    return len(failed)


def view(sub: Subscription) -> SubscriptionView:
    """The API's view of a subscription, without secrets."""
    return SubscriptionView(
        id=sub.id,
        url=sub.url,
        event_types=list(sub.event_types),
        account_ids=sub.account_ids,
        segments=sub.segments,
        description=sub.description,
        status=sub.status,
        disabled_reason=sub.disabled_reason,
        disabled_at=sub.disabled_at,
        failing_since=sub.failing_since,
        previous_secret_expires_at=sub.previous_secret_expires_at,
        created_at=sub.created_at,
    )


def delivery_view(delivery: Delivery, attempts: list[DeliveryAttempt]) -> DeliveryView:
    """The API's view of a delivery and its attempts."""
    return DeliveryView(
        id=delivery.id,
        webhook_id=delivery.msg_id,
        event_type=delivery.event_type,
        status=delivery.status,
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at,
        delivered_at=delivery.delivered_at,
        attempts=[
            AttemptView(attempted_at=a.attempted_at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error)
            for a in attempts
        ],
    )
