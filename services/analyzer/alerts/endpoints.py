"""``/v1/alerts``: the alerts, newest first, and the closed loop (acknowledge, resolve)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.alerts import repository as alert_repository
from services.analyzer.alerts import service as alert_service
from services.analyzer.alerts.schemas import AlertChange, AlertView
from services.analyzer.assessment import Assessor
from services.analyzer.db.models import AlertRow
from services.analyzer.deps import FORBIDDEN, AlertsWriteKey, Limit, Offset, ReadKey, SessionDep, WriterSessionDep
from services.analyzer.model.alerts import AlertStatus
from services.analyzer.verbatims.schemas import ThemesBySide
from services.analyzer.verbatims.sides import alert_side_themes
from shared.errors import ERROR_RESPONSES, ErrorBody
from shared.settings import Topics

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], responses=FORBIDDEN)
RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    404: {"model": ErrorBody, "description": "Unknown alert"},
    409: {"model": ErrorBody, "description": "The alert is already resolved"},
}


def _view(row: AlertRow, sides: Mapping[str, ThemesBySide]) -> AlertView:
    record = dict(row.record)
    record["status"] = row.status
    if row.acknowledged_at is not None and row.created_at is not None:
        record["time_to_acknowledge_s"] = (row.acknowledged_at - row.created_at).total_seconds()
    if row.alert_id in sides:
        # Read now from the current comments; the stored and delivered record does not carry it.
        record["themes_by_side"] = sides[row.alert_id].model_dump(mode="json")
    return AlertView.model_validate(record)


async def _views(session: AsyncSession, rows: Sequence[AlertRow]) -> list[AlertView]:
    sides = await alert_side_themes(session, rows)
    return [_view(row, sides) for row in rows]


# Unset: the fields a record does not carry stay absent (docs/api.md), as they are in the stored record.
@router.get(
    "",
    response_model=list[AlertView],
    response_model_exclude_unset=True,
    responses=ERROR_RESPONSES,
    summary="Alerts, newest first",
)
async def list_alerts(
    session: SessionDep,
    _: ReadKey,
    status: AlertStatus | None = None,
    account_id: str | None = None,
    type: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[AlertView]:
    """Alert records of the public contract, filtered by status, account and type."""
    rows = await alert_repository.search(
        session, status=status, account_id=account_id, type=type, limit=limit, offset=offset
    )
    return await _views(session, rows)


def _topics(request: Request) -> Topics:
    assessor: Assessor = request.app.state.assessor
    return assessor.topics


@router.post(
    "/{alert_id}/acknowledge",
    response_model=AlertView,
    response_model_exclude_unset=True,
    responses=RESPONSES,
    summary="Acknowledge an alert",
)
async def acknowledge(
    alert_id: str, body: AlertChange, request: Request, session: WriterSessionDep, key: AlertsWriteKey
) -> AlertView:
    """Record who acknowledged it and when (time to acknowledge is kept); subscribers are told."""
    row = await alert_service.change_by_hand(
        session, alert_id, action="acknowledge", by=body.by, note=body.note, topics=_topics(request), key_id=key.id
    )
    return (await _views(session, [row]))[0]


@router.post(
    "/{alert_id}/resolve",
    response_model=AlertView,
    response_model_exclude_unset=True,
    responses=RESPONSES,
    summary="Resolve an alert",
)
async def resolve(
    alert_id: str, body: AlertChange, request: Request, session: WriterSessionDep, key: AlertsWriteKey
) -> AlertView:
    """Close the alert by hand; subscribers are told."""
    row = await alert_service.change_by_hand(
        session, alert_id, action="resolve", by=body.by, note=body.note, topics=_topics(request), key_id=key.id
    )
    return (await _views(session, [row]))[0]
