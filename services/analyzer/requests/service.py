"""Survey requests: choose whom to ask at a journey moment or on cadence, record and announce each request,
fulfil it when an answer carries its id, expire it when nobody answered in time.

Runs inside the caller's transaction (a consumer batch, a sweep round): a request, its record on the
survey-requests topic (through the outbox) and its ``survey.requested`` webhook deliveries commit together
or not at all. The choice itself is pure (``choosing.py``); this module gathers what it reads.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.alerts import repository as alert_repository
from services.analyzer.assessment import Assessor
from services.analyzer.db.models import Account, Stakeholder
from services.analyzer.db.request_models import SurveyRequest
from services.analyzer.outbox import repository as outbox
from services.analyzer.repository import directory
from services.analyzer.requests import repository
from services.analyzer.requests.choosing import (
    UNASSIGNED,
    Choice,
    Person,
    Policy,
    RoleReading,
    Situation,
    choose,
    may_ask,
    open_alert_targets,
)
from services.analyzer.requests.questions import CADENCE_MOMENT, suggest
from services.analyzer.webhooks.outbox import enqueue_deliveries

log = logging.getLogger(__name__)

EVENT_TYPE: Final = "survey.requested"
# The reason and moment of the requests that follow up a done action plan.
FOLLOW_UP: Final = "plan_follow_up"
WEEK: Final = timedelta(days=7)
_MOMENTS_KEY: Final = "survey_request_moments"
# Namespace of request ids: the same moment and person always give the same id.
_REQUEST_NAMESPACE: Final = uuid.UUID("2b0f6a8e-4f9d-4c39-9d3e-5a1c7e0b8d21")


@dataclass(frozen=True)
class RequestConfig:
    """The survey-request settings: whom and how often (``policy``), how long a request waits for its
    answer, and how often each account gets a round outside journey moments (None: never)."""

    policy: Policy = field(default_factory=Policy)
    expiry: timedelta = timedelta(days=14)
    cadence: timedelta | None = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class NotedMoment:
    """A journey moment a consumer batch applied; requests are chosen for it once the batch is evaluated."""

    account_id: str
    moment: str
    event_id: str
    occurred_at: datetime
    stakeholder_id: str | None


def request_id_for(account_id: str, stakeholder_id: str, occasion: str) -> str:
    """The stable id of the request to ``stakeholder_id`` at ``occasion`` (a moment's event id, a round)."""
    return "req_" + uuid.uuid5(_REQUEST_NAMESPACE, f"{account_id}\x00{stakeholder_id}\x00{occasion}").hex


def note_moment(session: AsyncSession, moment: NotedMoment) -> None:
    """Remember a journey moment of this transaction, for ``after_batch``."""
    session.info.setdefault(_MOMENTS_KEY, []).append(moment)


async def after_batch(
    session: AsyncSession, assessor: Assessor, config: RequestConfig, *, now: datetime | None = None
) -> list[SurveyRequest]:
    """Ask for the journey moments this transaction applied (after the batch was evaluated).

    A moment older than the news horizon is history (a backfill): nobody is asked about it now.
    """
    moments: list[NotedMoment] = session.info.pop(_MOMENTS_KEY, [])
    now = now or datetime.now(UTC)
    made: list[SurveyRequest] = []
    for moment in moments:
        if now - moment.occurred_at > assessor.config.news_horizon:
            continue
        made += await ask(
            session,
            assessor,
            config,
            moment.account_id,
            moment=moment.moment,
            occasion=moment.event_id,
            participant=moment.stakeholder_id,
            now=now,
        )
    return made


async def sweep_account(
    session: AsyncSession, assessor: Assessor, config: RequestConfig, account_id: str, *, now: datetime
) -> list[SurveyRequest]:
    """The wall-clock part: expire overdue requests; on cadence, choose whom to ask outside any moment."""
    await repository.expire_overdue(session, account_id, now)
    if config.cadence is None:
        return []
    last = await repository.last_round(session, account_id)
    if last is not None and now - last.last_round_at < config.cadence:
        return []
    await repository.note_round(session, account_id, now)
    return await ask(
        session, assessor, config, account_id, moment=CADENCE_MOMENT, occasion=f"round:{now.isoformat()}", now=now
    )


async def ask(
    session: AsyncSession,
    assessor: Assessor,
    config: RequestConfig,
    account_id: str,
    *,
    moment: str,
    occasion: str,
    now: datetime,
    participant: str | None = None,
) -> list[SurveyRequest]:
    """Choose whom to ask in the account now, record each request and announce it; return the new ones."""
    account = await directory.get_account(session, account_id)
    if account is None:
        return []
    rows = await directory.list_stakeholders(session, account_id)
    situation, dimensions = await _situation(session, assessor, config, account_id, rows, participant, now)
    choices = choose(situation, config.policy)
    if not choices:
        return []
    return await _record(
        session, assessor, config, account, choices, dimensions, moment=moment, occasion=occasion, now=now
    )


async def follow_up(
    session: AsyncSession,
    assessor: Assessor,
    config: RequestConfig,
    account_id: str,
    *,
    roles: tuple[str, ...],
    occasion: str,
    detail: str,
    now: datetime,
) -> list[SurveyRequest]:
    """Ask the people of ``roles`` again after an action plan is done (reason ``plan_follow_up``).

    The same limits as any request hold: nobody who may not be contacted, holds a pending request or
    was asked or answered within the minimum interval, and no more than the weekly cap leaves.
    ``occasion`` (the plan) makes the request ids stable, so a replay asks nobody twice.
    """
    account = await directory.get_account(session, account_id)
    if account is None:
        return []
    rows = await directory.list_stakeholders(session, account_id)
    requests = await repository.account_requests(session, account_id)
    people = await people_of(session, account_id, rows, requests, assessor.config.thresholds.decision_roles, now)
    room = max(0, config.policy.weekly_cap - sum(1 for r in requests if now - r.created_at < WEEK))
    # The two sides take turns, so a cap that leaves room for few still hears both.
    turns: dict[str, int] = {}
    ranked: list[tuple[int, int, str, Choice]] = []
    for p in sorted(people, key=lambda p: p.stakeholder_id):
        if p.role not in roles or not may_ask(p, now, config.policy):
            continue
        turn = turns[p.role] = turns.get(p.role, -1) + 1
        choice = Choice(p.stakeholder_id, p.role, p.decision_maker, FOLLOW_UP, detail[:512])
        ranked.append((turn, roles.index(p.role), p.stakeholder_id, choice))
    chosen = [entry[3] for entry in sorted(ranked, key=lambda e: e[:3])[:room]]
    _, state = await assessor.state(session, account_id)
    dimensions: list[str] = []
    if state.clock is not None:
        snap = await assessor.snapshot(session, account, as_of=max(now, state.clock))
        dimensions = [d.dimension for d in snap.dimensions]
    return await _record(
        session, assessor, config, account, chosen, dimensions, moment=FOLLOW_UP, occasion=occasion, now=now
    )


async def _record(
    session: AsyncSession,
    assessor: Assessor,
    config: RequestConfig,
    account: Account,
    choices: list[Choice],
    dimensions: list[str],
    *,
    moment: str,
    occasion: str,
    now: datetime,
) -> list[SurveyRequest]:
    """Record each chosen request and announce it (topic and ``survey.requested``); return the new ones."""
    account_id = account.account_id
    renewal_near = _renewal_near(account.renewal_date, now, assessor.config.thresholds.renewal_window)
    questions = [q.as_dict() for q in suggest(moment, renewal_near=renewal_near, dimensions=dimensions)]
    made = []
    for choice in choices:
        request_id = request_id_for(account_id, choice.stakeholder_id, occasion)
        if await repository.get(session, request_id) is not None:
            continue  # this occasion asked them already (a replay)
        row = _request_row(request_id, account_id, choice, moment, occasion, questions, now, config.expiry)
        repository.add(session, row)
        record = request_record(row)
        outbox.enqueue(
            session,
            message_id=f"survey_request:{request_id}",
            topic=assessor.topics.survey_requests,
            key=account_id,
            value=record,
        )
        await enqueue_deliveries(
            session,
            event_type=EVENT_TYPE,
            data=record,
            account_id=account_id,
            segment=account.segment,
            message_key=f"{EVENT_TYPE}:{request_id}",
        )
        made.append(row)
    if made:
        log.info("survey requests made", extra={"account_id": account_id, "moment": moment, "requests": len(made)})
    return made


async def fulfil(
    session: AsyncSession,
    *,
    request_id: str,
    account_id: str,
    stakeholder_id: str,
    answered_at: datetime,
    event_id: str,
) -> bool:
    """Mark the request fulfilled by an answer of the person it asked; False when it does not apply.

    Only the person asked fulfils a request: the id travels through survey links that anyone holding the
    link can edit, so an answer attributed to someone else leaves it as it is. An answer given before the
    request expired fulfils it even when it arrives later.
    """
    row = await repository.get(session, request_id)
    if row is None or (row.account_id, row.stakeholder_id) != (account_id, stakeholder_id):
        log.info("an answer named a survey request it cannot fulfil", extra={"request_id": request_id})
        return False
    if row.status == repository.FULFILLED or answered_at > row.expires_at:
        return False
    row.status, row.fulfilled_at, row.fulfilled_by = repository.FULFILLED, answered_at, event_id
    return True


def request_record(row: SurveyRequest) -> dict[str, Any]:
    """The survey-request record of docs/api.md: on the topic, in the webhook and in the API.

    It names the person by their stakeholder id only (no name, no e-mail): the topic's records cannot be
    redacted by an erasure, only age out with the topic's retention.
    """
    record: dict[str, Any] = {
        "request_id": row.request_id,
        "account_id": row.account_id,
        "stakeholder_id": row.stakeholder_id,
        "role": row.role,
        "decision_maker": row.decision_maker,
        "moment": row.moment,
        "reason": row.reason,
        "detail": row.detail,
        "questions": list(row.questions),
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }
    if row.moment_event_id is not None:
        record["moment_event_id"] = row.moment_event_id
    if row.fulfilled_at is not None:
        record["fulfilled_at"] = row.fulfilled_at.isoformat()
    return record


def _request_row(
    request_id: str,
    account_id: str,
    choice: Choice,
    moment: str,
    occasion: str,
    questions: list[dict[str, Any]],
    now: datetime,
    expiry: timedelta,
) -> SurveyRequest:
    return SurveyRequest(
        request_id=request_id,
        account_id=account_id,
        stakeholder_id=choice.stakeholder_id,
        role=choice.role,
        decision_maker=choice.decision_maker,
        moment=moment,
        moment_event_id=None if occasion.startswith("round:") else occasion,
        reason=choice.reason,
        detail=choice.detail[:512],
        questions=questions,
        status=repository.PENDING,
        created_at=now,
        expires_at=now + expiry,
        fulfilled_at=None,
        fulfilled_by=None,
    )


def decides(row: Stakeholder, decision_roles: frozenset[str]) -> bool:
    """Whether a person decides the renewal: their own flag, else their role's default (client side)."""
    if row.side != "client" or row.role == UNASSIGNED:
        return False
    return row.decision_maker if row.decision_maker is not None else row.role in decision_roles


async def people_of(
    session: AsyncSession,
    account_id: str,
    rows: list[Stakeholder],
    requests: list[SurveyRequest],
    decision_roles: frozenset[str],
    now: datetime,
) -> list[Person]:
    """The account's people as the choice and coverage read them."""
    answered = await repository.last_answers(session, account_id)
    asked: dict[str, datetime] = {}
    pending: set[str] = set()
    for request in requests:
        held = asked.get(request.stakeholder_id)
        asked[request.stakeholder_id] = request.created_at if held is None else max(held, request.created_at)
        if repository.effective_status(request, now) == repository.PENDING:
            pending.add(request.stakeholder_id)
    return [
        Person(
            stakeholder_id=r.stakeholder_id,
            role=r.role,
            side=r.side,
            decision_maker=decides(r, decision_roles),
            contactable=r.contactable is not False,
            last_answer_at=answered.get(r.stakeholder_id),
            last_asked_at=asked.get(r.stakeholder_id),
            pending=r.stakeholder_id in pending,
        )
        for r in rows
    ]


async def _situation(
    session: AsyncSession,
    assessor: Assessor,
    config: RequestConfig,
    account_id: str,
    rows: list[Stakeholder],
    participant: str | None,
    now: datetime,
) -> tuple[Situation, list[str]]:
    """What the choice reads about the account now, and the dimensions its people answer on."""
    thresholds = assessor.config.thresholds
    requests = await repository.account_requests(session, account_id)
    people = await people_of(session, account_id, rows, requests, thresholds.decision_roles, now)
    roles: dict[str, RoleReading] = {}
    dimensions: list[str] = []
    account = await directory.get_account(session, account_id)
    _, state = await assessor.state(session, account_id)
    if account is not None and state.clock is not None:
        snap = await assessor.snapshot(session, account, as_of=max(now, state.clock))
        roles = {r.role: RoleReading(r.role, r.confidence, r.se) for r in snap.roles}
        dimensions = [d.dimension for d in snap.dimensions]
    alerts = [
        (row.type, list((row.record or {}).get("positions", [])))
        for row in await alert_repository.changeable_alerts(session, account_id)
        if row.active and row.status in directory.OPEN_STATUSES
    ]
    alert_people, divergence_roles = open_alert_targets(alerts)
    situation = Situation(
        now=now,
        people=people,
        roles=roles,
        divergence_roles=divergence_roles,
        alert_people=alert_people,
        participant=participant,
        asked_this_week=sum(1 for r in requests if now - r.created_at < WEEK),
    )
    return situation, dimensions


def _renewal_near(renewal_date: date | None, now: datetime, window: timedelta) -> bool:
    """Whether the renewal date lies ahead within the renewal window."""
    if renewal_date is None:
        return False
    ahead = renewal_date - now.date()
    return timedelta(0) <= ahead <= window
