"""``/v1/accounts``: each account's single score beside the positions and the divergence it hides."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.alerts import repository as alert_repository
from services.analyzer.assessment import Assessor, ModelConfig, held_answer
from services.analyzer.db.models import Account, Response
from services.analyzer.deps import FORBIDDEN, Limit, Offset, ReadKey, SessionDep, SettingsDep
from services.analyzer.model import AccountSnapshot, RolePosition
from services.analyzer.model.divergence import Divergence
from services.analyzer.model.history import Bucket, HistoryPoint, HistoryTooLong, Person
from services.analyzer.model.history import history as model_history
from services.analyzer.model.risk import Risk
from services.analyzer.repository import directory, responses, unverified
from services.analyzer.requests import reading
from services.analyzer.requests.reading import DecisionMakersHeard
from services.analyzer.schemas import (
    AccountSummary,
    AccountView,
    CompactCoverage,
    HistoryBucket,
    RiskFactorView,
    RiskView,
    RoleView,
    StakeholderView,
    WidestGap,
)
from services.analyzer.verbatims.sides import side_themes
from shared.errors import ERROR_RESPONSES, ErrorBody, InvalidRequest, NotFound

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=FORBIDDEN)
NOT_FOUND = {**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "Unknown account"}}


def _assessor(request: Request) -> Assessor:
    assessor: Assessor = request.app.state.assessor
    return assessor


def _finite(value: float | None) -> float | None:
    """The value, or None for a figure JSON cannot carry (an infinite standard error, NaN)."""
    return value if value is not None and math.isfinite(value) else None


def _roles(roles: tuple[RolePosition, ...]) -> list[RoleView]:
    return [
        RoleView(
            role=r.role,
            side=r.side,
            position=r.position,
            confidence=r.confidence,
            se=_finite(r.se),
            stakeholders=r.stakeholders,
        )
        for r in roles
    ]


def _widest_gap(split: Divergence | None) -> WidestGap | None:
    if split is None:
        return None
    se = _finite(split.se)
    return WidestGap(
        high_role=split.high.role,
        low_role=split.low.role,
        gap=split.gap,
        se=se,
        lower=_finite(split.lower) if se is not None else None,
    )


def _risk(risk: Risk | None) -> RiskView | None:
    """The risk as the API shows it; None also for a risk some figure of which is not finite."""
    if risk is None:
        return None
    numbers = [risk.probability, *(f.value for f in risk.factors), *(f.contribution for f in risk.factors)]
    if not all(math.isfinite(n) for n in numbers):
        return None
    return RiskView(
        probability=risk.probability,
        model_version=risk.model_version,
        reasons=[f.name for f in risk.reasons()],
        factors=[RiskFactorView(name=f.name, value=f.value, contribution=f.contribution) for f in risk.factors],
        lowest_decision_role=risk.lowest_role,
    )


def value_at_risk(risk: float | None, annual_value: float | None) -> float | None:
    """Risk x annual value, when both are known (the same product ``directory.list_accounts`` orders by)."""
    if risk is None or annual_value is None:
        return None
    return _finite(risk * annual_value)


def compact_coverage(heard: DecisionMakersHeard | None) -> CompactCoverage | None:
    """The account list's coverage; None for an account without decision makers (nobody to hear)."""
    if heard is None or heard.total == 0:
        return None
    return CompactCoverage(decision_makers_heard=heard.heard, decision_makers=heard.total)


@router.get("", response_model=list[AccountSummary], responses=ERROR_RESPONSES, summary="Accounts by divergence")
async def list_accounts(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: ReadKey,
    segment: str | None = None,
    order: Literal["divergence", "account_mean", "nps", "risk", "value_at_risk", "account_id"] = "divergence",
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[AccountSummary]:
    """Accounts with their single score and divergence, widest divergence first by default."""
    rows = await directory.list_accounts(session, segment=segment, order=order, limit=limit, offset=offset)
    heard = await reading.decision_makers_heard(
        session,
        [account.account_id for account, _, _ in rows],
        decision_roles=_assessor(request).config.thresholds.decision_roles,
        heard_within=timedelta(seconds=settings.survey_request_silent_after_s),
        now=datetime.now(UTC),
    )
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
            risk=_finite(model.risk) if model else None,
            value_at_risk=value_at_risk(_finite(model.risk) if model else None, account.annual_value),
            coverage=compact_coverage(heard.get(account.account_id)),
        )
        for account, model, n in rows
    ]


@router.get("/{account_id}", response_model=AccountView, responses=NOT_FOUND, summary="One account in full")
async def get_account(account_id: str, request: Request, session: SessionDep, _: ReadKey) -> AccountView:
    """Positions per stakeholder and role, the account mean, the widest gap and the classic scores."""
    account = await directory.get_account(session, account_id)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    return await account_view(session, account, await _assessor(request).snapshot(session, account))


async def account_view(session: AsyncSession, account: Account, snap: AccountSnapshot) -> AccountView:
    """The account as ``GET /v1/accounts/{account_id}`` shows it, from its snapshot (also read by the dashboard)."""
    account_id = account.account_id
    people = {p.stakeholder_id: p for p in await directory.list_stakeholders(session, account_id)}
    positions = {s.stakeholder_id: s for s in snap.stakeholders}
    stats = await responses.stats_by_stakeholder(session, account_id)
    account_aliases = await directory.account_aliases(session, account_id)
    person_aliases = await directory.person_aliases(session, account_id)
    open_alerts = await alert_repository.open_count(session, account_id)
    held_unverified = await unverified.counts(session, account_id)
    split = snap.divergence
    return AccountView(
        themes_by_side=await side_themes(session, account_id, split.high.role, split.low.role) if split else None,
        account_id=account.account_id,
        name=account.name,
        segment=account.segment,
        renewal_date=account.renewal_date,
        annual_value=account.annual_value,
        aliases=account_aliases,
        account_mean=snap.account_mean,
        divergence=split.gap if split else None,
        widest_gap=_widest_gap(split),
        dispersion=snap.dispersion,
        trend=snap.trend,
        answer_noise=_finite(snap.answer_noise),
        risk=_risk(snap.risk),
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
                decision_maker=positions[sid].decision_maker if sid in positions else False,
                position=positions[sid].position if sid in positions else None,
                confidence=positions[sid].confidence if sid in positions else None,
                se=_finite(positions[sid].se) if sid in positions else None,
                responses=stats[sid].responses if sid in stats else 0,
                last_response_at=stats[sid].last_response_at if sid in stats else None,
                unverified_responses=held_unverified.by_stakeholder.get(sid, 0),
            )
            for sid, person in sorted(people.items())
        ],
        unverified_answers=held_unverified.total,
    )


@router.get(
    "/{account_id}/history",
    response_model=list[HistoryBucket],
    responses={**NOT_FOUND, 422: {"model": ErrorBody, "description": "Span over the maximum number of buckets"}},
    summary="Role positions, account mean and divergence per bucket",
)
async def history(
    account_id: str,
    request: Request,
    session: SessionDep,
    _: ReadKey,
    bucket: Literal["day", "week", "month"] = "week",
    since: Annotated[date | None, Query(description="First day shown (default: the first answer's)")] = None,
    until: Annotated[date | None, Query(description="Last day shown (default: the latest event's)")] = None,
) -> list[HistoryBucket]:
    """Each bucket as of its end, recomputed from the answers held (exact, whatever the arrival order).

    At most ``MAX_HISTORY_BUCKETS`` (1000) buckets per request: a longer span is a 422 that says so.
    """
    account = await directory.get_account(session, account_id)
    if account is None:
        raise NotFound(f"no account {account_id!r}")
    config = _assessor(request).config
    points, _answers = await account_history(session, config, account, bucket=bucket, since=since, until=until)
    return [
        HistoryBucket(
            bucket_start=p.bucket_start,
            as_of=p.as_of,
            roles=_roles(p.roles),
            account_mean=p.account_mean,
            divergence=p.divergence,
        )
        for p in points
    ]


async def account_history(
    session: AsyncSession,
    config: ModelConfig,
    account: Account,
    *,
    bucket: Bucket,
    since: date | None,
    until: date | None,
) -> tuple[list[HistoryPoint], list[Response]]:
    """The history buckets of ``GET .../history`` and the answers they rest on (also read by the dashboard).

    ``InvalidRequest`` for ``since`` after ``until`` or a span over ``MAX_HISTORY_BUCKETS``.
    """
    if since is not None and until is not None and since > until:
        raise InvalidRequest([{"field": "since", "message": "since must not be after until", "type": "value_error"}])
    people = {
        p.stakeholder_id: Person(role=p.role, side=p.side, influence=p.influence)
        for p in await directory.list_stakeholders(session, account.account_id)
    }
    rows = await responses.current_answers(session, account.account_id)
    answers = [held_answer(r) for r in rows]
    if not answers:
        return [], rows
    last = max(account.last_event_at, answers[-1].answer.at)
    if until is not None:
        last = min(last, datetime.combine(until, time.max, tzinfo=UTC))
    first = since or answers[0].answer.at.date()
    if first > last.date():
        return [], rows
    try:
        points = model_history(
            answers,
            people,
            bucket=bucket,
            first=first,
            last=last,
            thresholds=config.thresholds,
            half_life=config.half_life,
        )
    except HistoryTooLong as exc:
        raise InvalidRequest([{"field": "bucket", "message": str(exc), "type": "too_long"}]) from exc
    return points, rows
