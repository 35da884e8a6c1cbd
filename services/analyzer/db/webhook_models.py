"""Tables of outbound webhooks: subscriptions, their durable deliveries and every delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.analyzer.db.base import Base, BigIntPK
from services.analyzer.db.types import StrEnumType
from services.analyzer.webhooks.schemas import DeliveryStatus, SubscriptionStatus


class Subscription(Base):
    """A subscriber endpoint with its filters, signing secret(s) and health."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list[Any]] = mapped_column()
    account_ids: Mapped[list[Any] | None] = mapped_column()  # None: every account
    segments: Mapped[list[Any] | None] = mapped_column()  # None: every segment
    description: Mapped[str | None] = mapped_column(String(256))
    secret: Mapped[str] = mapped_column(String(128))
    # During a rotation the previous secret keeps signing (a second v1 signature) until this time.
    previous_secret: Mapped[str | None] = mapped_column(String(128))
    previous_secret_expires_at: Mapped[datetime | None]
    status: Mapped[SubscriptionStatus] = mapped_column(StrEnumType(SubscriptionStatus, 16), index=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]  # first failed attempt since the last success
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Delivery(Base):
    """One message to one subscription; its ``msg_id`` (``webhook-id``) is the same on every attempt."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        index=True,
    )
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)  # the exact bytes sent (and signed) on every attempt
    status: Mapped[DeliveryStatus] = mapped_column(StrEnumType(DeliveryStatus, 16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # every attempt, replays included
    schedule_step: Mapped[int] = mapped_column(Integer, default=0)  # position in the retry schedule
    next_attempt_at: Mapped[datetime | None]
    # A claim: the dispatcher process that owns the send until this time (several processes may run).
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)


class DeliveryAttempt(Base):
    """One HTTP attempt of a delivery: when, the answer's status, how long it took, what went wrong."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text)
