"""Request and response bodies of the subscriptions API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, Field

from shared.vocabulary import Vocabulary

EventType = Literal[
    "alert.opened",
    "alert.updated",
    "alert.acknowledged",
    "alert.resolved",
    "survey.requested",
    "action.created",
    "action.updated",
    "action.completed",
]


class SubscriptionStatus(Vocabulary):
    """Whether a subscription receives deliveries (``status`` of the subscription record)."""

    ACTIVE = "active"
    DISABLED = "disabled"


class DeliveryStatus(Vocabulary):
    """Where one delivery stands (``status`` of the delivery record and the ``status`` filter)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


# Filters are matched on every delivery of every alert, and stored with the subscription: bounded.
MAX_FILTER_ACCOUNTS: Final = 1000
MAX_FILTER_SEGMENTS: Final = 100
AccountId = Annotated[str, Field(min_length=1, max_length=128)]  # as long as an account id may be
Segment = Annotated[str, Field(min_length=1, max_length=64)]  # as long as a segment may be


class SubscriptionCreate(BaseModel):
    """A new subscription: where to send, which events, optional account and segment filters."""

    url: str = Field(max_length=2048, examples=["https://crm.example.com/hooks/feedback"])
    event_types: list[EventType] = Field(min_length=1, max_length=16)  # eight types, repeats tolerated
    account_ids: list[AccountId] | None = Field(
        default=None,
        max_length=MAX_FILTER_ACCOUNTS,
        description=f"only these accounts (at most {MAX_FILTER_ACCOUNTS}); absent means all",
    )
    segments: list[Segment] | None = Field(
        default=None,
        max_length=MAX_FILTER_SEGMENTS,
        description=f"only accounts in these segments (at most {MAX_FILTER_SEGMENTS}); absent means all",
    )
    description: str | None = Field(default=None, max_length=256)


class SubscriptionView(BaseModel):
    """A subscription as the API shows it (never with its secret)."""

    id: str
    url: str
    event_types: list[str]
    account_ids: list[str] | None
    segments: list[str] | None
    description: str | None
    status: SubscriptionStatus
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime


class SubscriptionCreated(SubscriptionView):
    """The answer to a creation: the only time the secret is shown."""

    secret: str


class RotateSecret(BaseModel):
    """How long the old secret keeps signing; absent means ``WEBHOOK_SECRET_OVERLAP_S`` (24 h)."""

    overlap_seconds: float | None = Field(default=None, ge=0, le=7 * 86_400)


class SecretRotated(BaseModel):
    """The new secret (shown once) and until when the previous one still signs."""

    id: str
    secret: str
    previous_secret_expires_at: datetime | None


class AttemptView(BaseModel):
    """One HTTP attempt."""

    attempted_at: datetime
    status_code: int | None
    latency_ms: float | None
    error: str | None


class DeliveryView(BaseModel):
    """One message to the subscription and all its attempts."""

    id: int
    webhook_id: str
    event_type: str
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    attempts: list[AttemptView]


class DeliveryList(BaseModel):
    """A page of deliveries, newest first."""

    deliveries: list[DeliveryView]


class Replayed(BaseModel):
    """How many deliveries were queued again."""

    replayed: int
