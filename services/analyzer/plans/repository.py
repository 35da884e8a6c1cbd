"""Every query on action plans and their notes."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import AlertRow, Response, Stakeholder
from services.analyzer.db.plan_models import ActionPlan, PlanNote
from services.analyzer.db.request_models import SurveyRequest
from services.analyzer.plans.lifecycle import OPEN
from services.analyzer.plans.loop import AlertFact


async def get(session: AsyncSession, plan_id: str) -> ActionPlan | None:
    """One plan, or None."""
    return await session.get(ActionPlan, plan_id)


def add(session: AsyncSession, row: ActionPlan | PlanNote) -> None:
    """Hold a new plan or note."""
    session.add(row)


async def open_plan(session: AsyncSession, alert_id: str) -> ActionPlan | None:
    """The alert's plan that is planned or in progress, if any."""
    query = select(ActionPlan).where(ActionPlan.alert_id == alert_id, ActionPlan.status.in_(OPEN))
    return (await session.scalars(query.limit(1))).first()


async def notes(session: AsyncSession, plan_ids: Sequence[str]) -> dict[str, list[PlanNote]]:
    """The notes of each plan, oldest first."""
    if not plan_ids:
        return {}
    query = select(PlanNote).where(PlanNote.plan_id.in_(plan_ids)).order_by(PlanNote.at, PlanNote.id)
    found: dict[str, list[PlanNote]] = {p: [] for p in plan_ids}
    for note in await session.scalars(query):
        found[note.plan_id].append(note)
    return found


async def search(
    session: AsyncSession,
    *,
    account_id: str | None,
    alert_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> Sequence[ActionPlan]:
    """Plans filtered by account, alert and status, newest first."""
    query = select(ActionPlan)
    if account_id is not None:
        query = query.where(ActionPlan.account_id == account_id)
    if alert_id is not None:
        query = query.where(ActionPlan.alert_id == alert_id)
    if status is not None:
        query = query.where(ActionPlan.status == status)
    query = query.order_by(ActionPlan.created_at.desc(), ActionPlan.plan_id).limit(limit).offset(offset)
    return (await session.scalars(query)).all()


async def account_plans(session: AsyncSession, account_id: str) -> list[ActionPlan]:
    """Every plan of an account, oldest first."""
    query = select(ActionPlan).where(ActionPlan.account_id == account_id)
    return list(await session.scalars(query.order_by(ActionPlan.created_at, ActionPlan.plan_id)))


async def account_alerts(session: AsyncSession, account_id: str) -> list[AlertRow]:
    """Every alert of an account, oldest first."""
    query = select(AlertRow).where(AlertRow.account_id == account_id)
    return list(await session.scalars(query.order_by(AlertRow.created_at, AlertRow.alert_id)))


async def loop_alerts(session: AsyncSession, account_id: str | None, left_out: Collection[str]) -> list[AlertFact]:
    """The loop's facts of every alert of an account (None: of every account) but those of ``left_out`` types."""
    query = select(
        AlertRow.alert_id, AlertRow.created_at, AlertRow.acknowledged_at, AlertRow.opened_as_of, AlertRow.closed_as_of
    ).where(AlertRow.type.not_in(list(left_out)))
    if account_id is not None:
        query = query.where(AlertRow.account_id == account_id)
    return [AlertFact(*row) for row in (await session.execute(query.order_by(AlertRow.alert_id))).all()]


async def plans_of(session: AsyncSession, account_id: str | None) -> list[ActionPlan]:
    """Every plan of an account (None: of every account), oldest first."""
    query = select(ActionPlan)
    if account_id is not None:
        query = query.where(ActionPlan.account_id == account_id)
    return list(await session.scalars(query.order_by(ActionPlan.created_at, ActionPlan.plan_id)))


async def follow_up_requests(session: AsyncSession, plan_id: str) -> list[SurveyRequest]:
    """The survey requests that followed the plan up."""
    query = select(SurveyRequest).where(SurveyRequest.moment_event_id == occasion(plan_id))
    return list(await session.scalars(query.order_by(SurveyRequest.created_at, SurveyRequest.request_id)))


async def answered_roles(session: AsyncSession, account_id: str, roles: Sequence[str], since: datetime) -> list[str]:
    """Which of ``roles`` answered (a current answer of a client of that role) after ``since``."""
    query = (
        select(Stakeholder.role, func.count())
        .select_from(Response)
        .join(
            Stakeholder,
            (Stakeholder.account_id == Response.account_id) & (Stakeholder.stakeholder_id == Response.stakeholder_id),
        )
        .where(
            Response.account_id == account_id,
            Response.is_current.is_(True),
            Response.occurred_at > since,
            Stakeholder.side == "client",
            Stakeholder.role.in_(list(roles)),
        )
        .group_by(Stakeholder.role)
    )
    found = {role for role, count in (await session.execute(query)).all() if count}
    return [r for r in roles if r in found]


def occasion(plan_id: str) -> str:
    """The occasion of the plan's follow-up requests (their ``moment_event_id``)."""
    return f"plan:{plan_id}"


async def for_alerts(session: AsyncSession, alert_ids: Sequence[str]) -> list[ActionPlan]:
    """The plans of these alerts, oldest first."""
    if not alert_ids:
        return []
    query = select(ActionPlan).where(ActionPlan.alert_id.in_(list(alert_ids)))
    return list(await session.scalars(query.order_by(ActionPlan.created_at, ActionPlan.plan_id)))
