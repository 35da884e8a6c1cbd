"""``/v1/alerts``: the alerts, newest first, and the closed loop (acknowledge, resolve)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from sqlalchemy import select

from services.analyzer.assessment import Assessor, alert_record, publish_alert_change
from services.analyzer.db.models import Account, AlertRow
from services.analyzer.deps import ClientDep, Limit, Offset, SessionDep, WriterSessionDep
from services.analyzer.schemas import AlertChange
from shared.errors import ERROR_RESPONSES, Conflict, ErrorBody, NotFound

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    404: {"model": ErrorBody, "description": "Unknown alert"},
    409: {"model": ErrorBody, "description": "The alert is already resolved"},
}


def _view(row: AlertRow) -> dict[str, Any]:
    record = dict(row.record)
    record["status"] = row.status
    if row.acknowledged_at is not None and row.created_at is not None:
        record["time_to_acknowledge_s"] = (row.acknowledged_at - row.created_at).total_seconds()
    return record


@router.get("", responses=ERROR_RESPONSES, summary="Alerts, newest first")
async def list_alerts(
    session: SessionDep,
    _: ClientDep,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
    account_id: str | None = None,
    type: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Alert records of CONTRACT.md, filtered by status, account and type."""
    query = select(AlertRow)
    if status is not None:
        query = query.where(AlertRow.status == status)
    if account_id is not None:
        query = query.where(AlertRow.account_id == account_id)
    if type is not None:
        query = query.where(AlertRow.type == type)
    rows = await session.scalars(
        query.order_by(AlertRow.created_at.desc(), AlertRow.alert_id).limit(limit).offset(offset),
    )
    return [_view(row) for row in rows]


async def _change(
    request: Request, session: SessionDep, alert_id: str, body: AlertChange, action: str
) -> dict[str, Any]:
    row = await session.get(AlertRow, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id!r}")
    if row.status == "resolved":
        raise Conflict(f"alert {alert_id!r} is already resolved")
    now = datetime.now(UTC)
    if action == "acknowledge":
        row.status = "acknowledged"
        row.acknowledged_by, row.acknowledged_at = body.by, now
        event_type = "alert.acknowledged"
    else:
        # Resolved by hand: the alert stays tracked (muted) until its condition clears, so it does
        # not reopen at once while the condition still holds.
        row.status = "resolved"
        row.resolved_by, row.resolved_at = body.by, now
        event_type = "alert.resolved"
    row.note = body.note if body.note is not None else row.note
    row.updated_at = now
    row.record = alert_record(row, None, {})
    assessor: Assessor = request.app.state.assessor
    account = await session.get(Account, row.account_id)
    await publish_alert_change(session, row, event_type, assessor.topics, account.segment if account else None)
    return _view(row)


@router.post("/{alert_id}/acknowledge", responses=RESPONSES, summary="Acknowledge an alert")
async def acknowledge(
    alert_id: str, body: AlertChange, request: Request, session: WriterSessionDep, _: ClientDep
) -> dict[str, Any]:
    """Record who acknowledged it and when (time to acknowledge is kept); subscribers are told."""
    return await _change(request, session, alert_id, body, "acknowledge")


@router.post("/{alert_id}/resolve", responses=RESPONSES, summary="Resolve an alert")
async def resolve(
    alert_id: str, body: AlertChange, request: Request, session: WriterSessionDep, _: ClientDep
) -> dict[str, Any]:
    """Close the alert by hand; subscribers are told."""
    return await _change(request, session, alert_id, body, "resolve")
