"""The webhook outbox: deliveries are written in the transaction that changes what they report (an alert, a
survey request)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Final, get_args

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.analyzer.db.webhook_models import Delivery, Subscription
from services.analyzer.webhooks import repository
from services.analyzer.webhooks.schemas import DeliveryStatus, EventType

EVENT_TYPES: Final[tuple[EventType, ...]] = get_args(EventType)
_WAKE_KEY = "webhook_wake_after_commit"
# Dispatchers of this process, woken after a commit that queued deliveries (polling covers other processes).
_wakers: set[Callable[[], None]] = set()


def add_waker(wake: Callable[[], None]) -> None:
    """Call ``wake`` after every commit that queued deliveries in this process."""
    _wakers.add(wake)


def remove_waker(wake: Callable[[], None]) -> None:
    """Stop calling ``wake``."""
    _wakers.discard(wake)


def message_id(subscription_id: str, message_key: str) -> str:
    """The ``webhook-id`` of one alert change or survey request for one subscription, the same on every replay."""
    digest = hashlib.sha256(f"{subscription_id}\x00{message_key}".encode()).hexdigest()
    return f"msg_{digest[:40]}"


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def message_body(event_type: str, data: dict[str, Any], *, now: datetime) -> str:
    """The Standard Webhooks body ``{type, timestamp, data}``, as the exact text every attempt sends."""
    body = {"type": event_type, "timestamp": _json_default(now), "data": data}
    return json.dumps(body, separators=(",", ":"), default=_json_default)


def matches(subscription: Subscription, *, event_type: str, account_id: str, segment: str | None) -> bool:
    """True if the subscription wants this event type, account and segment (an absent filter matches all)."""
    if event_type not in subscription.event_types:
        return False
    if subscription.account_ids is not None and account_id not in subscription.account_ids:
        return False
    return subscription.segments is None or segment in subscription.segments


async def enqueue_deliveries(
    session: AsyncSession,
    *,
    event_type: str,
    data: dict[str, Any],
    account_id: str,
    segment: str | None,
    message_key: str,
) -> int:
    """Queue one delivery per matching active subscription, in the caller's transaction; return how many."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    subscriptions = [
        sub
        for sub in await repository.active_subscriptions(session)
        if matches(sub, event_type=event_type, account_id=account_id, segment=segment)
    ]
    if not subscriptions:
        return 0
    wanted = {message_id(sub.id, message_key): sub for sub in subscriptions}
    existing = await repository.existing_msg_ids(session, list(wanted))
    now = datetime.now(UTC)
    body = message_body(event_type, data, now=now)
    created = 0
    for msg_id, sub in wanted.items():
        if msg_id in existing:
            continue  # a replayed alert change: that message exists already
        try:
            # A savepoint, so that a concurrent writer of the same message cannot abort the caller's transaction.
            async with session.begin_nested():
                session.add(_new_delivery(sub.id, msg_id, event_type, body, now))
        except IntegrityError:
            continue
        created += 1
    if created:
        _wake_after_commit(session)
    return created


def _new_delivery(subscription_id: str, msg_id: str, event_type: str, body: str, now: datetime) -> Delivery:
    return Delivery(
        subscription_id=subscription_id,
        msg_id=msg_id,
        event_type=event_type,
        body=body,
        status=DeliveryStatus.PENDING,
        attempts=0,
        schedule_step=0,
        next_attempt_at=now,
        created_at=now,
    )


def _wake_after_commit(session: AsyncSession) -> None:
    """Wake this process's dispatchers once the transaction commits, so delivery need not wait for a poll."""
    if session.info.get(_WAKE_KEY):
        return
    session.info[_WAKE_KEY] = True

    def wake(sync_session: Session) -> None:
        sync_session.info.pop(_WAKE_KEY, None)
        for waker in list(_wakers):
            waker()

    event.listen(session.sync_session, "after_commit", wake, once=True)
