"""Plain helpers for dispatcher tests: tiny backoffs, subscriptions, alert changes, a running dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.db.webhook_models import Delivery, DeliveryAttempt, Subscription
from services.analyzer.settings import AnalyzerSettings
from services.analyzer.webhooks import service
from services.analyzer.webhooks.dispatcher import Dispatcher
from services.analyzer.webhooks.outbox import enqueue_deliveries
from services.analyzer.webhooks.schemas import SubscriptionCreate, SubscriptionCreated
from tests.factories import ANALYZER_KEY

ALL_EVENTS = ["alert.opened", "alert.updated", "alert.acknowledged", "alert.resolved"]


def webhook_settings(database_url: str, **overrides: Any) -> AnalyzerSettings:
    """Analyzer settings for webhook tests: loopback receivers allowed, backoffs of milliseconds."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "analyzer_api_keys": [ANALYZER_KEY],
        "kafka_bootstrap_servers": "127.0.0.1:1",
        "kafka_create_topics": False,
        "webhook_allow_private_targets": True,
        "webhook_retry_schedule_s": [0.05, 0.05, 0.05],
        "webhook_retry_jitter": 0.0,
        "webhook_poll_interval_s": 0.05,
        "webhook_request_timeout_s": 5.0,
        "webhook_connect_timeout_s": 2.0,
    }
    values.update(overrides)
    return AnalyzerSettings(_env_file=None, **values)


def create_alert(*, alert_id: str = "al_1", account_id: str = "acme", status: str = "open") -> dict[str, Any]:
    """An alert record (docs/api.md, "The alert record")."""
    return {
        "alert_id": alert_id,
        "type": "stakeholder_divergence",
        "severity": "warning",
        "status": status,
        "account_id": account_id,
        "as_of": "2026-05-01T10:00:00Z",
        "created_at": "2026-05-01T10:00:01Z",
        "summary": "Procurement (+0.80) and IT (-0.20) are 1.00 apart",
        "metrics": {"divergence": 1.0},
        "positions": [{"role": "procurement", "position": 0.8, "confidence": 0.9}],
        "evidence": ["ev_1"],
    }


async def subscribe(
    sessions: async_sessionmaker[AsyncSession],
    settings: AnalyzerSettings,
    url: str,
    **fields: Any,
) -> SubscriptionCreated:
    """Create a subscription through the service layer."""
    fields.setdefault("event_types", ALL_EVENTS)
    async with sessions() as session, session.begin():
        return await service.create(session, settings, SubscriptionCreate(url=url, **fields))


async def alert_change(
    sessions: async_sessionmaker[AsyncSession],
    *,
    alert_id: str = "al_1",
    seq: int = 0,
    event_type: str = "alert.opened",
    account_id: str = "acme",
    segment: str | None = None,
) -> int:
    """Enqueue one alert change as the analyzer's transaction would; return the deliveries created."""
    async with sessions() as session, session.begin():
        return await enqueue_deliveries(
            session,
            event_type=event_type,
            data=create_alert(alert_id=alert_id, account_id=account_id),
            account_id=account_id,
            segment=segment,
            message_key=f"{alert_id}:{seq}",
        )


@asynccontextmanager
async def running_dispatcher(
    sessions: async_sessionmaker[AsyncSession],
    settings: AnalyzerSettings,
) -> AsyncIterator[Dispatcher]:
    """A dispatcher loop for the duration of the block, then stopped as the app's lifespan would."""
    dispatcher = Dispatcher(sessions, settings)
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await dispatcher.close()


async def deliveries(sessions: async_sessionmaker[AsyncSession], subscription_id: str) -> list[Delivery]:
    """Every delivery of a subscription."""
    async with sessions() as session:
        query = select(Delivery).where(Delivery.subscription_id == subscription_id).order_by(Delivery.id)
        return list((await session.scalars(query)).all())


async def attempts(sessions: async_sessionmaker[AsyncSession], delivery_id: int) -> list[DeliveryAttempt]:
    """Every attempt of a delivery."""
    async with sessions() as session:
        query = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
        return list((await session.scalars(query)).all())


async def subscription(sessions: async_sessionmaker[AsyncSession], subscription_id: str) -> Subscription:
    """The stored subscription."""
    async with sessions() as session:
        sub = await session.get(Subscription, subscription_id)
        assert sub is not None
        return sub
