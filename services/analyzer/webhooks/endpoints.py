"""``/v1/subscriptions``: outbound webhook subscriptions, their deliveries and replays (docs/webhooks.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from services.analyzer import changes
from services.analyzer.deps import FORBIDDEN, SessionDep, SettingsDep, SubscriptionsAdminKey, WriterSessionDep
from services.analyzer.webhooks import repository, service
from services.analyzer.webhooks.schemas import (
    DeliveryList,
    DeliveryStatus,
    DeliveryView,
    Replayed,
    RotateSecret,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionView,
)
from shared.errors import ERROR_RESPONSES, ErrorBody, NotFound

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"], responses=FORBIDDEN)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Unknown subscription or delivery"}
}


DISABLED: dict[int | str, dict[str, Any]] = {409: {"model": ErrorBody, "description": "The subscription is disabled"}}


@router.post(
    "",
    status_code=201,
    response_model=SubscriptionCreated,
    responses=ERROR_RESPONSES,
    summary="Subscribe a URL to alert events (the secret is shown only here)",
)
async def create_subscription(
    body: SubscriptionCreate, session: WriterSessionDep, settings: SettingsDep, key: SubscriptionsAdminKey
) -> SubscriptionCreated:
    """Create a subscription; a URL that is malformed or names a forbidden address gets 422."""
    created = await service.create(session, settings, body)
    changes.record(session, key_id=key.id, action="subscription.create", target=created.id)
    return created


@router.get("", response_model=list[SubscriptionView], responses=ERROR_RESPONSES, summary="All subscriptions")
async def list_subscriptions(session: SessionDep, _: SubscriptionsAdminKey) -> list[SubscriptionView]:
    """Every subscription, without secrets."""
    return [service.view(sub) for sub in await repository.list_subscriptions(session)]


@router.get(
    "/{subscription_id}",
    response_model=SubscriptionView,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    summary="One subscription",
)
async def get_subscription(subscription_id: str, session: SessionDep, _: SubscriptionsAdminKey) -> SubscriptionView:
    """One subscription, with its status and why it was disabled."""
    return service.view(await service.require(session, subscription_id))


@router.delete(
    "/{subscription_id}",
    status_code=204,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    summary="Delete a subscription and its deliveries",
)
async def delete_subscription(subscription_id: str, session: WriterSessionDep, key: SubscriptionsAdminKey) -> Response:
    """Delete the subscription; nothing more is sent to it."""
    if not await repository.delete_subscription(session, subscription_id):
        raise NotFound(f"no subscription {subscription_id!r}")
    changes.record(session, key_id=key.id, action="subscription.delete", target=subscription_id)
    return Response(status_code=204)


@router.post(
    "/{subscription_id}/rotate-secret",
    response_model=SecretRotated,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    summary="Replace the signing secret; the old one keeps signing during the overlap",
)
async def rotate_secret(
    subscription_id: str,
    session: WriterSessionDep,
    settings: SettingsDep,
    key: SubscriptionsAdminKey,
    body: Annotated[RotateSecret | None, Body()] = None,
) -> SecretRotated:
    """A new secret, shown once; both sign (two ``v1,`` signatures) until ``previous_secret_expires_at``."""
    rotated = await service.rotate_secret(session, settings, subscription_id, body.overlap_seconds if body else None)
    changes.record(session, key_id=key.id, action="subscription.rotate_secret", target=subscription_id)
    return rotated


@router.post(
    "/{subscription_id}/enable",
    response_model=SubscriptionView,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    summary="Re-enable a disabled subscription",
)
async def enable_subscription(
    subscription_id: str, session: WriterSessionDep, key: SubscriptionsAdminKey
) -> SubscriptionView:
    """Make a disabled subscription active again; its waiting deliveries are sent."""
    enabled = await service.enable(session, subscription_id)
    changes.record(session, key_id=key.id, action="subscription.enable", target=subscription_id)
    return enabled


@router.get(
    "/{subscription_id}/deliveries",
    response_model=DeliveryList,
    responses={**ERROR_RESPONSES, **NOT_FOUND},
    summary="Deliveries with every attempt",
)
async def list_deliveries(
    subscription_id: str,
    session: SessionDep,
    _: SubscriptionsAdminKey,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryList:
    """Newest first; each attempt with its time, status code, latency and error."""
    await service.require(session, subscription_id)
    rows = await repository.list_deliveries(session, subscription_id, status=status, limit=limit)
    return DeliveryList(deliveries=[service.delivery_view(d, attempts) for d, attempts in rows])


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    response_model=DeliveryView,
    responses={**ERROR_RESPONSES, **NOT_FOUND, **DISABLED},
    summary="Send one delivery again (same webhook-id)",
)
async def replay_delivery(
    subscription_id: str, delivery_id: int, session: WriterSessionDep, key: SubscriptionsAdminKey
) -> DeliveryView:
    """Queue the delivery again with a fresh retry schedule."""
    replayed = await service.replay_one(session, subscription_id, delivery_id)
    changes.record(session, key_id=key.id, action="subscription.replay", target=f"{subscription_id}/{delivery_id}")
    return replayed


@router.post(
    "/{subscription_id}/replay-failed",
    status_code=202,
    response_model=Replayed,
    responses={**ERROR_RESPONSES, **NOT_FOUND, **DISABLED},
    summary="Send every failed delivery again",
)
async def replay_failed(subscription_id: str, session: WriterSessionDep, key: SubscriptionsAdminKey) -> Replayed:
    """Queue every failed delivery of the subscription again."""
    replayed = Replayed(replayed=await service.replay_failed(session, subscription_id))
    changes.record(session, key_id=key.id, action="subscription.replay_failed", target=subscription_id)
    return replayed
