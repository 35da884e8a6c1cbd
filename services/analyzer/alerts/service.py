"""Alerts' one home: opening, updating, resolving, acknowledging and publishing alert changes.

The consumer (through ``assessment.py``, when the rules decide a transition) and the API (when a
person acknowledges or resolves) both change alerts here, so every change is recorded and delivered
the same way: the alert record of the public contract (docs/api.md), a ``feedback.alerts.v1`` outbox
row and one webhook delivery per matching subscription, in the caller's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.alerts import repository
from services.analyzer.db.models import AlertRow
from services.analyzer.model import AccountSnapshot, Transition
from services.analyzer.repository import directory, ledger
from services.analyzer.webhooks.outbox import enqueue_deliveries
from shared.errors import Conflict, NotFound
from shared.settings import Topics


async def record_change(
    session: AsyncSession,
    change: Transition,
    row: AlertRow | None,
    snap: AccountSnapshot,
    *,
    segment: str | None,
    topics: Topics,
) -> None:
    """Record one transition the rules decided: open, update, resolve or release an alert."""
    now = datetime.now(UTC)
    if change.kind == "unchanged":
        return
    if change.kind == "release":
        if row is not None:
            row.active = False
        return
    if row is None:
        if change.kind != "open":
            return
        row = AlertRow(
            alert_id=change.alert_id,
            account_id=snap.account_id,
            type=change.type,
            key=change.key,
            severity=change.severity,
            status="open",
            active=True,
            opened_as_of=snap.as_of,
            created_at=now,
            updated_at=now,
            seq=0,
            record={},
        )
        repository.add(session, row)
    row.severity = change.severity
    row.status = change.status
    row.updated_at = now
    if change.kind == "resolve":
        row.active = False
        row.resolved_at = row.resolved_at or now
    condition = change.condition.as_dict() if change.condition is not None else {}
    row.record = alert_record(row, snap, condition)
    event_type = {"open": "alert.opened", "update": "alert.updated", "resolve": "alert.resolved"}[change.kind]
    await publish_alert_change(session, row, event_type, topics, segment)


def alert_record(row: AlertRow, snap: AccountSnapshot | None, condition: dict[str, Any]) -> dict[str, Any]:
    """The alert record of docs/api.md, keeping the last known figures when the condition is gone."""
    previous = row.record or {}
    record = {
        "alert_id": row.alert_id,
        "type": row.type,
        "severity": row.severity,
        "status": row.status,
        "account_id": row.account_id,
        "as_of": (snap.as_of.isoformat() if snap else previous.get("as_of")),
        "opened_as_of": row.opened_as_of.isoformat(),
        "created_at": row.created_at.isoformat(),
        "summary": condition.get("summary", previous.get("summary", "")),
        "metrics": condition.get("metrics", previous.get("metrics", {})),
        "positions": condition.get("positions", previous.get("positions", [])),
        "evidence": condition.get("evidence", previous.get("evidence", [])),
    }
    if row.acknowledged_at is not None:
        record["acknowledged"] = {"by": row.acknowledged_by, "at": row.acknowledged_at.isoformat()}
    if row.resolved_at is not None:
        record["resolved"] = {"by": row.resolved_by, "at": row.resolved_at.isoformat()}
    if row.note:
        record["note"] = row.note
    return record


async def publish_alert_change(
    session: AsyncSession,
    row: AlertRow,
    event_type: str,
    topics: Topics,
    segment: str | None,
) -> None:
    """Queue one alert change for Kafka (and for webhook subscribers) in the caller's transaction."""
    row.seq += 1
    message_key = f"{row.alert_id}:{row.seq}"
    ledger.enqueue(
        session,
        message_id=f"alert:{message_key}",
        topic=topics.alerts,
        key=row.account_id,
        value={"event": event_type, **row.record},
    )
    await enqueue_deliveries(
        session,
        event_type=event_type,
        alert=row.record,
        account_id=row.account_id,
        segment=segment,
        message_key=message_key,
    )


async def change_by_hand(
    session: AsyncSession,
    alert_id: str,
    *,
    action: Literal["acknowledge", "resolve"],
    by: str,
    note: str | None,
    topics: Topics,
) -> AlertRow:
    """A person acknowledges or resolves an alert; subscribers are told like of any change.

    ``NotFound`` for an unknown alert, ``Conflict`` for one already resolved.
    """
    row = await repository.get(session, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id!r}")
    if row.status == "resolved":
        raise Conflict(f"alert {alert_id!r} is already resolved")
    now = datetime.now(UTC)
    if action == "acknowledge":
        row.status = "acknowledged"
        row.acknowledged_by, row.acknowledged_at = by, now
        event_type = "alert.acknowledged"
    else:
        # Resolved by hand: the alert stays tracked (muted) until its condition clears, so it does
        # not reopen at once while the condition still holds.
        row.status = "resolved"
        row.resolved_by, row.resolved_at = by, now
        event_type = "alert.resolved"
    row.note = note if note is not None else row.note
    row.updated_at = now
    row.record = alert_record(row, None, {})
    account = await directory.get_account(session, row.account_id)
    await publish_alert_change(session, row, event_type, topics, account.segment if account else None)
    return row
