"""``/v1/alerts/{id}/plan`` and ``/v1/plans``: action plans on alerts, their progress and their before and after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.assessment import Assessor
from services.analyzer.db.plan_models import ActionPlan
from services.analyzer.deps import FORBIDDEN, AlertsWriteKey, Limit, Offset, ReadKey, SessionDep, WriterSessionDep
from services.analyzer.plans import repository, service
from services.analyzer.plans.gap import GapReading, summary
from services.analyzer.plans.lifecycle import PlanStatus
from services.analyzer.plans.schemas import GapView, NoteCreate, OutcomeView, PlanChange, PlanCreate, PlanView
from services.analyzer.requests.service import RequestConfig
from shared.errors import ERROR_RESPONSES, ErrorBody, NotFound

router = APIRouter(tags=["action plans"], responses=FORBIDDEN)
RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    404: {"model": ErrorBody, "description": "Unknown alert or plan"},
    409: {"model": ErrorBody, "description": "A change the plan's status (or its alert's) does not allow"},
}


def _gap(reading: GapReading | None) -> GapView | None:
    return None if reading is None else GapView.model_validate(reading.as_dict())


async def plan_views(session: AsyncSession, assessor: Assessor, plans: list[ActionPlan]) -> list[PlanView]:
    """The plans as the API shows them: record, notes, and the gap before and after."""
    notes = await repository.notes(session, [p.plan_id for p in plans])
    now = datetime.now(UTC)
    views = []
    for plan in plans:
        found = await service.outcome(session, assessor, plan, now)
        comparison = found.comparison
        outcome = OutcomeView(
            before=_gap(found.before),
            after=_gap(found.after),
            change=None if comparison is None else round(comparison.change, 4),
            change_se=None if comparison is None or comparison.change_se is None else round(comparison.change_se, 4),
            narrowed=None if comparison is None else comparison.narrowed,
            closed=None if comparison is None else comparison.closed,
            follow_up_requests=found.follow_up_requests,
            follow_up_fulfilled=found.follow_up_fulfilled,
            answered_roles=found.answered_roles,
            summary=summary(found.before, found.after, comparison, plan.status),
        )
        record = service.plan_record(plan, notes.get(plan.plan_id, []))
        views.append(PlanView.model_validate({**record, "outcome": outcome}))
    return views


def _assessor(request: Request) -> Assessor:
    assessor: Assessor = request.app.state.assessor
    return assessor


def _request_config(request: Request) -> RequestConfig | None:
    config: RequestConfig | None = getattr(request.app.state, "request_config", None)
    return config


@router.post(
    "/v1/alerts/{alert_id}/plan",
    response_model=PlanView,
    status_code=201,
    responses=RESPONSES,
    summary="Make an action plan on an alert",
)
async def create_plan(
    alert_id: str, body: PlanCreate, request: Request, session: WriterSessionDep, key: AlertsWriteKey
) -> PlanView:
    """Owner, due date, steps and a first note; the gap between the alert's two roles is recorded now.

    409 when the alert is resolved or already has a plan planned or in progress.
    """
    assessor = _assessor(request)
    plan = await service.create(
        session,
        assessor,
        alert_id,
        owner=body.owner,
        due_date=body.due_date,
        steps=body.steps,
        note=body.note,
        by=body.by,
        key_id=key.id,
    )
    return (await plan_views(session, assessor, [plan]))[0]


@router.get("/v1/plans", response_model=list[PlanView], responses=ERROR_RESPONSES, summary="Action plans, newest first")
async def list_plans(
    request: Request,
    session: SessionDep,
    _: ReadKey,
    account_id: str | None = None,
    alert_id: str | None = None,
    status: PlanStatus | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[PlanView]:
    """Plans filtered by account, alert and status."""
    rows = await repository.search(
        session, account_id=account_id, alert_id=alert_id, status=status, limit=limit, offset=offset
    )
    return await plan_views(session, _assessor(request), list(rows))


@router.get("/v1/plans/{plan_id}", response_model=PlanView, responses=RESPONSES, summary="One action plan")
async def get_plan(plan_id: str, request: Request, session: SessionDep, _: ReadKey) -> PlanView:
    """One plan, its notes, and its gap before and after."""
    plan = await repository.get(session, plan_id)
    if plan is None:
        raise NotFound(f"no action plan {plan_id!r}")
    return (await plan_views(session, _assessor(request), [plan]))[0]


@router.patch("/v1/plans/{plan_id}", response_model=PlanView, responses=RESPONSES, summary="Change an action plan")
async def change_plan(
    plan_id: str, body: PlanChange, request: Request, session: WriterSessionDep, key: AlertsWriteKey
) -> PlanView:
    """Status (planned, in_progress, done, abandoned), owner, due date, steps.

    409 for a move the status does not allow (a plan that is done or abandoned does not change). A plan
    that becomes done asks the people of its alert's two roles again (reason ``plan_follow_up``).
    """
    assessor = _assessor(request)
    fields = body.model_fields_set
    plan = await service.change(
        session,
        assessor,
        _request_config(request),
        plan_id,
        status=body.status,
        owner=body.owner,
        due_date=body.due_date if "due_date" in fields else service.UNCHANGED,
        steps=body.steps,
        key_id=key.id,
    )
    return (await plan_views(session, assessor, [plan]))[0]


@router.post(
    "/v1/plans/{plan_id}/notes",
    response_model=PlanView,
    status_code=201,
    responses=RESPONSES,
    summary="Add a progress note to an action plan",
)
async def add_note(
    plan_id: str, body: NoteCreate, request: Request, session: WriterSessionDep, key: AlertsWriteKey
) -> PlanView:
    """A note (who, what); subscribers hear of it as ``action.updated``."""
    plan = await service.add_note(session, plan_id, text=body.text, by=body.by, key_id=key.id)
    return (await plan_views(session, _assessor(request), [plan]))[0]


async def plans_by_alert(session: AsyncSession, assessor: Assessor, alert_ids: list[str]) -> dict[str, list[PlanView]]:
    """The plans of these alerts as views, oldest first, by alert (the dashboard's alert list and account page)."""
    found: dict[str, list[PlanView]] = {}
    for view in await plan_views(session, assessor, await repository.for_alerts(session, alert_ids)):
        found.setdefault(view.alert_id, []).append(view)
    return found
