"""Every query on alerts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import AlertRow
from services.analyzer.model.alerts import OPEN_STATUSES, AlertStatus
from services.analyzer.repository.unit_of_work import batch_of


async def get(session: AsyncSession, alert_id: str) -> AlertRow | None:
    """One alert, or None."""
    return await session.get(AlertRow, alert_id)


async def account_alerts(session: AsyncSession, account_id: str) -> list[AlertRow]:
    """Every alert of an account (from memory in a consumer batch once read whole)."""
    state = batch_of(session)
    if state is not None and account_id in state.alerts_complete:
        return list(state.alerts[account_id])
    # The query flushes first, so what the batch added or deleted is in it; the rows the batch
    # already holds come back as the same objects (the session's identity map).
    rows = list(await session.scalars(select(AlertRow).where(AlertRow.account_id == account_id)))
    if state is not None:
        state.alerts[account_id] = rows
        state.alerts_complete.add(account_id)
    return rows


async def changeable_alerts(session: AsyncSession, account_id: str) -> list[AlertRow]:
    """The alerts an evaluation of the account can change: at least every open one and every one its
    timeline still holds (closed on or after its last evaluated day); in a consumer batch, what the
    batch read (``repository/batch.py``), otherwise every alert."""
    state = batch_of(session)
    if state is not None and account_id in state.alerts:
        return list(state.alerts[account_id])
    return await account_alerts(session, account_id)


def add(session: AsyncSession, row: AlertRow) -> None:
    """Hold a new alert (and tell the batch, whose later events must see it)."""
    session.add(row)
    state = batch_of(session)
    if state is not None and row.account_id in state.alerts:
        state.alerts[row.account_id].append(row)


async def delete(session: AsyncSession, row: AlertRow) -> None:
    """Forget an alert whose episode no longer exists in the account's timeline."""
    await session.delete(row)
    state = batch_of(session)
    if state is not None and row.account_id in state.alerts:
        state.alerts[row.account_id].remove(row)


async def waiting_for_delivery(session: AsyncSession) -> list[AlertRow]:
    """Open alerts webhook subscribers have never been told of (history held back during a backfill)."""
    query = select(AlertRow).where(
        AlertRow.active.is_(True), AlertRow.notified.is_(None), AlertRow.status.in_(OPEN_STATUSES)
    )
    return list(await session.scalars(query.order_by(AlertRow.account_id, AlertRow.opened_as_of)))


async def search(
    session: AsyncSession,
    *,
    status: AlertStatus | None,
    account_id: str | None,
    type: str | None,
    limit: int,
    offset: int,
) -> Sequence[AlertRow]:
    """Alerts filtered by status, account and type, newest first."""
    query = select(AlertRow)
    if status is not None:
        query = query.where(AlertRow.status == status)
    if account_id is not None:
        query = query.where(AlertRow.account_id == account_id)
    if type is not None:
        query = query.where(AlertRow.type == type)
    rows = await session.scalars(
        query.order_by(AlertRow.created_at.desc(), AlertRow.alert_id).limit(limit).offset(offset)
    )
    return rows.all()


async def open_count(session: AsyncSession, account_id: str) -> int:
    """How many alerts of an account are open or acknowledged."""
    query = (
        select(func.count())
        .select_from(AlertRow)
        .where(AlertRow.account_id == account_id, AlertRow.status.in_(OPEN_STATUSES))
    )
    return int(await session.scalar(query) or 0)


async def open_total(session: AsyncSession) -> int:
    """How many alerts, over every account, are open or acknowledged."""
    return int(
        await session.scalar(select(func.count()).select_from(AlertRow).where(AlertRow.status.in_(OPEN_STATUSES))) or 0
    )


async def open_types(session: AsyncSession, account_ids: Sequence[str], *, types: Sequence[str]) -> dict[str, set[str]]:
    """Per account, which of ``types`` it has an alert of open (open or acknowledged)."""
    if not account_ids:
        return {}
    rows = await session.execute(
        select(AlertRow.account_id, AlertRow.type)
        .where(
            AlertRow.account_id.in_(list(account_ids)),
            AlertRow.status.in_(OPEN_STATUSES),
            AlertRow.type.in_(list(types)),
        )
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for account_id, alert_type in rows:
        found.setdefault(account_id, set()).add(alert_type)
    return found


async def mark_all_told(session: AsyncSession) -> None:
    """Count every alert as announced and notified in its present state (resolved, or open at its severity)."""
    told = case(
        (AlertRow.status == AlertStatus.RESOLVED, AlertStatus.RESOLVED.value),
        (AlertRow.active.is_(False), AlertStatus.RESOLVED.value),
        else_=f"{AlertStatus.OPEN}:" + AlertRow.severity,
    )
    await session.execute(update(AlertRow).values(announced=told, notified=told))
