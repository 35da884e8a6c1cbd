"""Action plans: making one on an alert, moving it through its statuses, noting progress, following it up.

Every change runs in the caller's transaction and is recorded with the calling key's id; subscribers hear
of it as ``action.created``, ``action.updated`` or ``action.completed`` (a plan reaching done or
abandoned), delivered like alert changes. A plan that is done asks the people of the two roles its alert
is about again (``requests.service.follow_up``); its gap before (recorded when it was made) and after
(read from the account's state once follow-up answers arrive) is ``outcome``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer import changes
from services.analyzer.alerts import repository as alert_repository
from services.analyzer.assessment import Assessor
from services.analyzer.db.models import Account, AlertRow
from services.analyzer.db.plan_models import ActionPlan, PlanNote
from services.analyzer.model.alerts import AlertStatus
from services.analyzer.plans import repository
from services.analyzer.plans.gap import Comparison, GapReading, alert_pair, compare, pair_gap
from services.analyzer.plans.lifecycle import FINAL, event_type, refusal
from services.analyzer.plans.loop import NOT_ACTED_ON, LoopFigures, PlanFact, loop_figures
from services.analyzer.repository import directory
from services.analyzer.requests import service as requests
from services.analyzer.requests.schemas import RequestStatus
from services.analyzer.webhooks.outbox import enqueue_deliveries
from shared.errors import Conflict, InvalidRequest, NotFound

log = logging.getLogger(__name__)

CREATED: Final = "action.created"
UNCHANGED: Final = object()


@dataclass(frozen=True, slots=True)
class Outcome:
    """A plan's gap before and after: the after and the comparison once follow-up answers arrived."""

    before: GapReading | None
    after: GapReading | None
    comparison: Comparison | None
    follow_up_requests: int
    follow_up_fulfilled: int
    answered_roles: list[str]


def _check_due(due_date: date | None, now: datetime) -> None:
    if due_date is not None and due_date < now.date():
        raise InvalidRequest(f"due_date {due_date.isoformat()} is in the past")


async def create(
    session: AsyncSession,
    assessor: Assessor,
    alert_id: str,
    *,
    owner: str,
    due_date: date | None,
    steps: Sequence[str],
    note: str | None,
    by: str | None,
    key_id: str,
    now: datetime | None = None,
) -> ActionPlan:
    """Make a plan on an alert and record the gap between its two roles now.

    ``NotFound`` for an unknown alert; ``Conflict`` for a resolved one or one with a plan still open.
    """
    now = now or datetime.now(UTC)
    alert = await alert_repository.get(session, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id!r}")
    if alert.status == AlertStatus.RESOLVED:
        raise Conflict(f"alert {alert_id!r} is resolved: a plan needs an open alert")
    held = await repository.open_plan(session, alert_id)
    if held is not None:
        raise Conflict(f"alert {alert_id!r} already has an open plan {held.plan_id!r} ({held.status})")
    _check_due(due_date, now)
    account = await directory.get_account(session, alert.account_id)
    plan = ActionPlan(
        plan_id="plan_" + uuid.uuid4().hex,
        alert_id=alert_id,
        account_id=alert.account_id,
        owner=owner,
        due_date=due_date,
        steps=list(steps),
        status="planned",
        created_at=now,
        updated_at=now,
        completed_at=None,
        completed_as_of=None,
        created_by=key_id,
        before=None,
        seq=0,
    )
    if account is not None:
        before = await _reading(session, assessor, account, alert, now)
        plan.before = None if before is None else before.as_dict()
    repository.add(session, plan)
    if note:
        repository.add(session, PlanNote(plan_id=plan.plan_id, at=now, by=by or key_id, text=note))
    await session.flush()
    changes.record(session, key_id=key_id, action="plan.create", target=plan.plan_id)
    await _announce(session, plan, CREATED, account)
    return plan


async def change(
    session: AsyncSession,
    assessor: Assessor,
    config: requests.RequestConfig | None,
    plan_id: str,
    *,
    status: str | None = None,
    owner: str | None = None,
    due_date: date | object | None = UNCHANGED,
    steps: Sequence[str] | None = None,
    key_id: str,
    now: datetime | None = None,
) -> ActionPlan:
    """Change a plan's status, owner, due date or steps; a plan that becomes done is followed up.

    ``NotFound`` for an unknown plan; ``Conflict`` for a move its status does not allow, or any change
    to a plan that is done or abandoned.
    """
    now = now or datetime.now(UTC)
    plan = await _get(session, plan_id)
    before = plan.status
    if plan.status in FINAL:
        raise Conflict(refusal(plan.status, status or "") or f"the plan is {plan.status}")
    if status is not None:
        why = refusal(plan.status, status)
        if why is not None:
            raise Conflict(why)
        plan.status = status
        if status in FINAL:
            plan.completed_at = now
        if status == "done":
            plan.completed_as_of = (await assessor.state(session, plan.account_id))[1].clock
    if owner is not None:
        plan.owner = owner
    if due_date is not UNCHANGED:
        assert due_date is None or isinstance(due_date, date)
        if due_date != plan.due_date:
            _check_due(due_date, now)
        plan.due_date = due_date
    if steps is not None:
        plan.steps = list(steps)
    plan.updated_at = now
    changes.record(session, key_id=key_id, action=f"plan.{plan.status}" if status else "plan.update", target=plan_id)
    account = await directory.get_account(session, plan.account_id)
    await _announce(session, plan, event_type(before, plan.status), account)
    if plan.status == "done" and before != "done" and config is not None:
        await _follow_up(session, assessor, config, plan, now)
    return plan


async def add_note(
    session: AsyncSession, plan_id: str, *, text: str, by: str | None, key_id: str, now: datetime | None = None
) -> ActionPlan:
    """Add a progress note (any plan, also one done: what happened after still counts)."""
    now = now or datetime.now(UTC)
    plan = await _get(session, plan_id)
    repository.add(session, PlanNote(plan_id=plan_id, at=now, by=by or key_id, text=text))
    plan.updated_at = now
    await session.flush()
    changes.record(session, key_id=key_id, action="plan.note", target=plan_id)
    account = await directory.get_account(session, plan.account_id)
    await _announce(session, plan, "action.updated", account)
    return plan


async def _get(session: AsyncSession, plan_id: str) -> ActionPlan:
    plan = await repository.get(session, plan_id)
    if plan is None:
        raise NotFound(f"no action plan {plan_id!r}")
    return plan


async def _follow_up(
    session: AsyncSession, assessor: Assessor, config: requests.RequestConfig, plan: ActionPlan, now: datetime
) -> None:
    """Ask the people on the two sides of the plan's alert again."""
    if plan.before is None:
        log.info("a done plan has no pair of roles to follow up", extra={"plan_id": plan.plan_id})
        return
    reading = GapReading.from_dict(plan.before)
    roles = (reading.high_role, reading.low_role)
    made = await requests.follow_up(
        session,
        assessor,
        config,
        plan.account_id,
        roles=roles,
        occasion=repository.occasion(plan.plan_id),
        detail=f"an action plan on the {reading.high_role}-{reading.low_role} gap is done: is the gap closing?",
        now=now,
    )
    log.info("plan followed up", extra={"plan_id": plan.plan_id, "requests": len(made)})


async def _reading(
    session: AsyncSession, assessor: Assessor, account: Account, alert: AlertRow, now: datetime
) -> GapReading | None:
    """The gap between the alert's two roles (else the account's widest pair) in the account's state now."""
    _, state = await assessor.state(session, account.account_id)
    if state.clock is None:
        return None
    snap = await assessor.snapshot(session, account, as_of=max(now, state.clock))
    pair = alert_pair((alert.record or {}).get("metrics", {}))
    if pair is None and snap.divergence is not None:
        pair = snap.divergence.high.role, snap.divergence.low.role
    if pair is None:
        return None
    return pair_gap(snap.roles, *pair, z=assessor.config.thresholds.divergence_z, as_of=snap.as_of)


async def outcome(session: AsyncSession, assessor: Assessor, plan: ActionPlan, now: datetime | None = None) -> Outcome:
    """The gap before and, for a done plan whose roles answered since, after (from the account's state now)."""
    now = now or datetime.now(UTC)
    before = None if plan.before is None else GapReading.from_dict(plan.before)
    asked = await repository.follow_up_requests(session, plan.plan_id)
    fulfilled = sum(1 for r in asked if r.status == RequestStatus.FULFILLED)
    if before is None or plan.status != "done" or plan.completed_at is None:
        return Outcome(before, None, None, len(asked), fulfilled, [])
    roles = [before.high_role, before.low_role]
    # After the plan was done in event time (the account's clock then) when known: a replayed history's
    # answers are after it though they were processed long before the wall clock's completion.
    since = plan.completed_as_of or plan.completed_at
    answered = await repository.answered_roles(session, plan.account_id, roles, since)
    account = await directory.get_account(session, plan.account_id)
    if not answered or account is None:
        return Outcome(before, None, None, len(asked), fulfilled, answered)
    _, state = await assessor.state(session, plan.account_id)
    snap = await assessor.snapshot(session, account, as_of=max(now, state.clock or now))
    th = assessor.config.thresholds
    after = pair_gap(snap.roles, before.high_role, before.low_role, z=th.divergence_z, as_of=snap.as_of)
    comparison = None if after is None else compare(before, after, z=th.divergence_z, clear=th.divergence_clear)
    return Outcome(before, after, comparison, len(asked), fulfilled, answered)


async def loop(session: AsyncSession, assessor: Assessor, account_id: str | None) -> LoopFigures:
    """The loop figures of an account (None: of the portfolio), each done plan's after read as of now."""
    now = datetime.now(UTC)
    alerts = await repository.loop_alerts(session, account_id, NOT_ACTED_ON)
    facts = []
    for plan in await repository.plans_of(session, account_id):
        closed = None
        if plan.status == "done":
            comparison = (await outcome(session, assessor, plan, now)).comparison
            closed = None if comparison is None else comparison.closed
        facts.append(PlanFact(plan.alert_id, plan.created_at, plan.status, plan.completed_at, closed))
    return loop_figures(alerts, facts)


def plan_record(plan: ActionPlan, notes: Sequence[PlanNote]) -> dict[str, Any]:
    """The action-plan record of docs/api.md: in the ``action.*`` webhooks and in the API."""
    record: dict[str, Any] = {
        "plan_id": plan.plan_id,
        "alert_id": plan.alert_id,
        "account_id": plan.account_id,
        "owner": plan.owner,
        "due_date": None if plan.due_date is None else plan.due_date.isoformat(),
        "steps": list(plan.steps),
        "status": plan.status,
        "created_at": plan.created_at.isoformat(),
        "updated_at": plan.updated_at.isoformat(),
        "completed_at": None if plan.completed_at is None else plan.completed_at.isoformat(),
        "notes": [{"at": n.at.isoformat(), "by": n.by, "text": n.text} for n in notes],
        "before": plan.before,
    }
    return record


async def _announce(session: AsyncSession, plan: ActionPlan, event: str, account: Account | None) -> None:
    """Queue the plan's change for webhook subscribers, in the caller's transaction."""
    plan.seq += 1
    notes = (await repository.notes(session, [plan.plan_id]))[plan.plan_id]
    await enqueue_deliveries(
        session,
        event_type=event,
        data=plan_record(plan, notes),
        account_id=plan.account_id,
        segment=None if account is None else account.segment,
        message_key=f"{event}:{plan.plan_id}:{plan.seq}",
    )
