"""Alerts' one home: opening, updating, resolving, acknowledging and publishing alert changes.

The consumer (through ``assessment.py``, which keeps each account's alert timeline) and the API
(when a person acknowledges or resolves) both change alerts here, so every change is recorded and
published the same way: the alert record of the public contract (docs/api.md), a
``feedback.alerts.v1`` outbox row and, when it is news, one webhook delivery per matching
subscription, in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer import changes
from services.analyzer.alerts import counts, repository
from services.analyzer.db.models import AlertRow
from services.analyzer.model.alerts import SEVERITY_RANK, AlertStatus
from services.analyzer.model.timeline import AlertTimeline, Episode
from services.analyzer.outbox import repository as outbox
from services.analyzer.repository import directory
from services.analyzer.webhooks.outbox import enqueue_deliveries
from shared.errors import Conflict, NotFound
from shared.settings import Topics


def human_statuses(rows: Sequence[AlertRow]) -> dict[str, AlertStatus]:
    """What people made of the open alerts: acknowledged, or resolved by hand (muted)."""
    human = (AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED)
    return {r.alert_id: r.status for r in rows if r.active and r.status in human}


def told_state(row: AlertRow) -> str:
    """The alert as subscribers should see it: ``open:<severity>`` or ``resolved``."""
    closed = row.status == AlertStatus.RESOLVED or not row.active
    return AlertStatus.RESOLVED if closed else f"{AlertStatus.OPEN}:{row.severity}"


def next_message_key(row: AlertRow) -> str:
    """The key of the alert's next published change (outbox message id, webhook id).

    The change count alone is not enough: an episode a re-evaluation took back and opened again
    starts a new row, so the key also carries a digest of the record (which includes the row's
    creation time).
    """
    row.seq += 1
    digest = hashlib.sha256(json.dumps(row.record, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{row.alert_id}:{row.seq}:{digest}"


def _event_type(before: str | None, after: str) -> str:
    if after == AlertStatus.RESOLVED:
        return "alert.resolved"
    return "alert.opened" if before is None or before == AlertStatus.RESOLVED else "alert.updated"


async def sync_timeline(
    session: AsyncSession,
    account_id: str,
    timeline: AlertTimeline,
    *,
    initial: Collection[str],
    segment: str | None,
    topics: Topics,
    now: datetime,
    news_horizon: timedelta,
    every_row: bool = True,
) -> None:
    """Bring an account's alert rows in line with its timeline and announce every change.

    ``initial``: the episodes the timeline held before this transaction changed it; a row of one of
    them (or any open row) that the timeline no longer has was taken back by a re-evaluation, and is
    retracted. Each row then says what changed since it was last announced (``announce``).
    ``every_row=False`` reads only the rows an evaluation can change (``repository.changeable_alerts``):
    enough unless the timeline was recomputed from the account's events, which brings back episodes
    closed long ago.
    """
    read = repository.account_alerts if every_row else repository.changeable_alerts
    rows = {r.alert_id: r for r in await read(session, account_id)}
    live = {e.alert_id for e in timeline.episodes}
    for episode in timeline.episodes:
        row = rows.get(episode.alert_id)
        if row is None:
            row = AlertRow(
                alert_id=episode.alert_id,
                account_id=account_id,
                type=episode.type,
                key=episode.key,
                severity=episode.severity,
                status=AlertStatus.OPEN,
                active=True,
                opened_as_of=episode.opened_as_of,
                created_at=now,
                updated_at=now,
                seq=0,
                record={},
            )
            repository.add(session, row)
        _follow(row, episode, now)
        await announce(
            session, row, episode.last.as_of, topics=topics, segment=segment, now=now, news_horizon=news_horizon
        )
    for row in rows.values():
        if row.alert_id not in live and (row.active or row.alert_id in initial):
            await _retract(session, row, topics=topics, segment=segment, now=now)


def _follow(row: AlertRow, episode: Episode, now: datetime) -> None:
    """Copy the episode's state onto its row, keeping what people did with the alert."""
    closed = episode.resolved_as_of
    before = (row.severity, row.status, row.active, row.closed_as_of, row.opened_as_of, row.record)
    if closed is not None:
        if row.status != AlertStatus.RESOLVED:
            row.status, row.resolved_at = AlertStatus.RESOLVED, now
    elif row.status == AlertStatus.RESOLVED and row.resolved_by is None:
        row.status, row.resolved_at = AlertStatus.OPEN, None  # re-evaluated: the condition holds after all
    elif row.status == AlertStatus.ACKNOWLEDGED and SEVERITY_RANK[episode.severity] > SEVERITY_RANK[row.severity]:
        row.status = AlertStatus.OPEN  # an escalation re-opens an acknowledged alert
    row.severity = episode.severity
    row.active = closed is None
    row.closed_as_of = closed
    row.opened_as_of = episode.opened_as_of
    row.record = alert_record(row, episode.last.as_of, dict(episode.condition))
    if (row.severity, row.status, row.active, row.closed_as_of, row.opened_as_of, row.record) != before:
        row.updated_at = now


async def announce(
    session: AsyncSession,
    row: AlertRow,
    changed_as_of: datetime,
    *,
    topics: Topics,
    segment: str | None,
    now: datetime,
    news_horizon: timedelta,
) -> None:
    """Publish the alert's change since it was last announced, and deliver it if it is news.

    Subscribers hear of an alert they already know whenever it changes; of an alert they do not
    know, only when it is open and its change is news: no older than ``news_horizon`` (event time)
    when processed. Older changes are history: recorded and published to the alerts topic with
    ``"news": false``; an alert left open by them is delivered once the analyzer has caught up
    (``deliver_backfilled``).
    """
    state = told_state(row)
    news = changed_as_of >= now - news_horizon
    tell = row.notified != state and (row.notified is not None or (state != AlertStatus.RESOLVED and news))
    if row.announced == state and not tell:
        return
    message_key = next_message_key(row)
    if row.announced != state:
        outbox.enqueue(
            session,
            message_id=f"alert:{message_key}",
            topic=topics.alerts,
            key=row.account_id,
            value={"event": _event_type(row.announced, state), **row.record, "news": tell},
        )
        row.announced = state
        counts.count(session, "news" if tell else "history")
    if tell:
        await enqueue_deliveries(
            session,
            event_type=_event_type(row.notified, state),
            data=row.record,
            account_id=row.account_id,
            segment=segment,
            message_key=message_key,
        )
        row.notified = state


async def _retract(session: AsyncSession, row: AlertRow, *, topics: Topics, segment: str | None, now: datetime) -> None:
    """An episode a re-evaluation took back: tell whoever heard of it that it is over, then forget it."""
    told = (None, AlertStatus.RESOLVED)
    if row.announced not in told or row.notified not in told:
        row.status, row.active = AlertStatus.RESOLVED, False
        row.resolved_at = row.resolved_at or now
        row.record = {**alert_record(row, None, {}), "retracted": True}
        await announce(session, row, now, topics=topics, segment=segment, now=now, news_horizon=timedelta(0))
    await repository.delete(session, row)


async def deliver_backfilled(
    session: AsyncSession,
    *,
    topics: Topics,
    owns: Callable[[str], bool] | None = None,
) -> int:
    """Deliver once, as opened, every open alert subscribers were never told of; return how many.

    Called when the analyzer has caught up with the events topic: what a backfill left open is news
    now, with its original as-of time; what it opened and closed again never reaches subscribers.
    """
    delivered = 0
    for row in await repository.waiting_for_delivery(session):
        if owns is not None and not owns(row.account_id):
            continue
        account = await directory.get_account(session, row.account_id)
        message_key = next_message_key(row)
        record = {**row.record, "backfilled": True}
        outbox.enqueue(
            session,
            message_id=f"alert:{message_key}",
            topic=topics.alerts,
            key=row.account_id,
            value={"event": "alert.opened", **record, "news": True},
        )
        await enqueue_deliveries(
            session,
            event_type="alert.opened",
            data=record,
            account_id=row.account_id,
            segment=account.segment if account else None,
            message_key=message_key,
        )
        row.notified = row.announced = told_state(row)
        counts.count(session, "backfilled")
        delivered += 1
    return delivered


def alert_record(row: AlertRow, as_of: datetime | None, condition: dict[str, Any]) -> dict[str, Any]:
    """The alert record of docs/api.md, keeping the last known figures when the condition is gone."""
    previous = row.record or {}
    record = {
        "alert_id": row.alert_id,
        "type": row.type,
        "severity": row.severity,
        "status": row.status,
        "account_id": row.account_id,
        "as_of": (as_of.isoformat() if as_of else previous.get("as_of")),
        "opened_as_of": row.opened_as_of.isoformat(),
        "created_at": row.created_at.isoformat(),
        "summary": condition.get("summary", previous.get("summary", "")),
        "metrics": condition.get("metrics", previous.get("metrics", {})),
        "positions": condition.get("positions", previous.get("positions", [])),
        "evidence": condition.get("evidence", previous.get("evidence", [])),
    }
    if row.closed_as_of is not None:
        record["resolved_as_of"] = row.closed_as_of.isoformat()
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
    """Queue one change made by a person for Kafka and for webhook subscribers, in the caller's transaction."""
    message_key = next_message_key(row)
    outbox.enqueue(
        session,
        message_id=f"alert:{message_key}",
        topic=topics.alerts,
        key=row.account_id,
        value={"event": event_type, **row.record, "news": True},
    )
    await enqueue_deliveries(
        session,
        event_type=event_type,
        data=row.record,
        account_id=row.account_id,
        segment=segment,
        message_key=message_key,
    )
    row.announced = row.notified = told_state(row)


async def change_by_hand(
    session: AsyncSession,
    alert_id: str,
    *,
    action: Literal["acknowledge", "resolve"],
    by: str | None,
    note: str | None,
    topics: Topics,
    key_id: str,
) -> AlertRow:
    """A person acknowledges or resolves an alert; subscribers are told like of any change.

    ``by`` is who the caller says they are (the key's id when absent); ``key_id``, the id of the key
    that made the call, is recorded with the change whatever ``by`` says. ``NotFound`` for an unknown
    alert, ``Conflict`` for one already resolved.
    """
    by = by or key_id
    row = await repository.get(session, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id!r}")
    if row.status == AlertStatus.RESOLVED:
        raise Conflict(f"alert {alert_id!r} is already resolved")
    now = datetime.now(UTC)
    if action == "acknowledge":
        row.status = AlertStatus.ACKNOWLEDGED
        row.acknowledged_by, row.acknowledged_at = by, now
        event_type = "alert.acknowledged"
    else:
        # Resolved by hand: the alert stays tracked (muted) until its condition clears, so it does
        # not reopen at once while the condition still holds.
        row.status = AlertStatus.RESOLVED
        row.resolved_by, row.resolved_at = by, now
        event_type = "alert.resolved"
    row.note = note if note is not None else row.note
    row.updated_at = now
    row.record = alert_record(row, None, {})
    changes.record(session, key_id=key_id, action=f"alert.{action}", target=alert_id)
    account = await directory.get_account(session, row.account_id)
    await publish_alert_change(session, row, event_type, topics, account.segment if account else None)
    return row
