"""``/v1/accounts``: each account's single score beside the positions and the divergence it hides."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select

from services.analyzer.assessment import Assessor, held_answer
from services.analyzer.db.models import Account, AccountAlias, AccountModel, AlertRow, Response, StakeholderAlias
from services.analyzer.deps import ClientDep, SessionDep
from services.analyzer.model import (
    EMPTY,
    HeldAnswer,
    RolePosition,
    StakeholderRecord,
    account_mean,
    add,
    build_snapshot,
    divergence,
)
from services.analyzer.repository import directory, responses
from services.analyzer.schemas import AccountSummary, AccountView, HistoryBucket, RoleView, StakeholderView, WidestGap
from shared.errors import ERROR_RESPONSES, ErrorBody, NotFound

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])
NOT_FOUND = {**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "Unknown account"}}


def _assessor(request: Request) -> Assessor:
    assessor: Assessor = request.app.state.assessor
    return assessor


def _roles(roles: tuple[RolePosition, ...]) -> list[RoleView]:
    return [
        RoleView(role=r.role, side=r.side, position=r.position, confidence=r.confidence, stakeholders=r.stakeholders)
        for r in roles
    ]


@router.get("", response_model=list[AccountSummary], responses=ERROR_RESPONSES, summary="Accounts by divergence")
async def list_accounts(
    session: SessionDep,
    _: ClientDep,
    segment: str | None = None,
    order: Literal["divergence", "account_mean", "nps", "account_id"] = "divergence",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[AccountSummary]:
    """Accounts with their single score and divergence, widest divergence first by default."""
    open_alerts = (
        select(AlertRow.account_id, func.count().label("n"))
        .where(AlertRow.status.in_(("open", "acknowledged")))
        .group_by(AlertRow.account_id)
        .subquery()
    )
    query = (
        select(Account, AccountModel, open_alerts.c.n)
        .outerjoin(AccountModel, AccountModel.account_id == Account.account_id)
        .outerjoin(open_alerts, open_alerts.c.account_id == Account.account_id)
    )
    if segment is not None:
        query = query.where(Account.segment == segment)
    if order == "account_id":
        query = query.order_by(Account.account_id)
    else:
        column = getattr(AccountModel, order)
        query = query.order_by(column.is_(None), column.desc(), Account.account_id)
    rows = await session.execute(query.limit(limit).offset(offset))
    return [
        AccountSummary(
            account_id=account.account_id,
            name=account.name,
            segment=account.segment,
            renewal_date=account.renewal_date,
            account_mean=model.account_mean if model else None,
            divergence=model.divergence if model else None,
            nps=model.nps if model else None,
            open_alerts=int(n or 0),
        )
        for account, model, n in rows
    ]


@router.get("/{account_id}", response_model=AccountView, responses=NOT_FOUND, summary="One account in full")
async def get_account(account_id: str, request: Request, session: SessionDep, _: ClientDep) -> AccountView:
    """Positions per stakeholder and role, the account mean, the widest gap and the classic scores."""
    account = await directory.get_account(session, account_id)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    snap = await _assessor(request).snapshot(session, account)
    people = {p.stakeholder_id: p for p in await directory.list_stakeholders(session, account_id)}
    positions = {s.stakeholder_id: s for s in snap.stakeholders}
    stats = await responses.stats_by_stakeholder(session, account_id)
    account_aliases = list(
        await session.scalars(
            select(AccountAlias.alias).where(AccountAlias.account_id == account_id).order_by(AccountAlias.alias),
        ),
    )
    person_aliases: dict[str, list[str]] = {}
    for alias, sid in await session.execute(
        select(StakeholderAlias.alias, StakeholderAlias.stakeholder_id)
        .where(StakeholderAlias.account_id == account_id)
        .order_by(StakeholderAlias.alias),
    ):
        person_aliases.setdefault(sid, []).append(alias)
    open_alerts = await session.scalar(
        select(func.count())
        .select_from(AlertRow)
        .where(AlertRow.account_id == account_id, AlertRow.status.in_(("open", "acknowledged"))),
    )
    split = snap.divergence
    return AccountView(
        account_id=account.account_id,
        name=account.name,
        segment=account.segment,
        renewal_date=account.renewal_date,
        annual_value=account.annual_value,
        aliases=account_aliases,
        account_mean=snap.account_mean,
        divergence=split.gap if split else None,
        widest_gap=WidestGap(high_role=split.high.role, low_role=split.low.role, gap=split.gap) if split else None,
        dispersion=snap.dispersion,
        trend=snap.trend,
        nps=snap.nps,
        classic=dataclasses.asdict(snap.classic) if snap.classic is not None else None,
        open_alerts=int(open_alerts or 0),
        roles=_roles(snap.roles),
        supplier_roles=_roles(snap.supplier_roles),
        as_of=snap.as_of,
        stakeholders=[
            StakeholderView(
                stakeholder_id=sid,
                name=person.name,
                role=person.role,
                side=person.side,
                influence=person.influence,
                aliases=person_aliases.get(sid, []),
                position=positions[sid].position if sid in positions else None,
                confidence=positions[sid].confidence if sid in positions else None,
                responses=stats[sid].responses if sid in stats else 0,
                last_response_at=stats[sid].last_response_at if sid in stats else None,
            )
            for sid, person in sorted(people.items())
        ],
    )


@router.get(
    "/{account_id}/history",
    response_model=list[HistoryBucket],
    responses=NOT_FOUND,
    summary="Role positions, account mean and divergence per bucket",
)
async def history(
    account_id: str,
    request: Request,
    session: SessionDep,
    _: ClientDep,
    bucket: Literal["day", "week", "month"] = "week",
) -> list[HistoryBucket]:
    """Each bucket as of its end, recomputed from the answers held (exact, whatever the arrival order)."""
    account = await directory.get_account(session, account_id)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    config = _assessor(request).config
    people = {p.stakeholder_id: p for p in await directory.list_stakeholders(session, account_id)}
    rows = list(
        await session.scalars(
            select(Response)
            .where(Response.account_id == account_id, Response.is_current.is_(True))
            .order_by(Response.occurred_at, Response.event_id),
        ),
    )
    if not rows:
        return []
    answers = [held_answer(r) for r in rows]
    result = []
    start = _bucket_start(answers[0].answer.at.date(), bucket)
    last = max(account.last_event_at, answers[-1].answer.at)
    states: dict[str, object] = {}
    index = 0
    while True:
        end = datetime.combine(_next_bucket(start, bucket), time.min, tzinfo=UTC)
        while index < len(answers) and answers[index].answer.at < end:
            held: HeldAnswer = answers[index]
            states[held.stakeholder_id] = add(states.get(held.stakeholder_id, EMPTY), held.answer, config.half_life)  # type: ignore[arg-type]
            index += 1
        as_of = min(end - timedelta(microseconds=1), last)
        records = [
            StakeholderRecord(
                stakeholder_id=sid,
                role=people[sid].role if sid in people else "unassigned",
                side=people[sid].side if sid in people else "client",  # type: ignore[arg-type]
                influence=people[sid].influence if sid in people else 1.0,
                state=state,  # type: ignore[arg-type]
            )
            for sid, state in sorted(states.items())
        ]
        snap = build_snapshot(
            account_id=account_id,
            as_of=as_of,
            stakeholders=records,
            thresholds=config.thresholds,
            half_life=config.half_life,
        )
        split = divergence(snap.roles, min_confidence=config.thresholds.min_role_confidence)
        result.append(
            HistoryBucket(
                bucket_start=start,
                as_of=as_of,
                roles=_roles(snap.roles),
                account_mean=account_mean(snap.roles),
                divergence=split.gap if split else None,
            ),
        )
        if end > last:
            return result
        start = _next_bucket(start, bucket)


def _bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _next_bucket(start: date, bucket: str) -> date:
    if bucket == "week":
        return start + timedelta(days=7)
    if bucket == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)
