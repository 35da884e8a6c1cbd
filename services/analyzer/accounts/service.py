"""Accounts: the account view and its history, as the API and the dashboard show them."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.accounts.schemas import (
    AccountView,
    CompactCoverage,
    RiskFactorView,
    RiskView,
    RoleView,
    StakeholderView,
    WidestGap,
)
from services.analyzer.alerts import repository as alert_repository
from services.analyzer.assessment import ModelConfig, held_answer
from services.analyzer.db.models import Account, Response
from services.analyzer.model import AccountSnapshot, RolePosition
from services.analyzer.model.divergence import Divergence
from services.analyzer.model.history import Bucket, HistoryPoint, HistoryTooLong, Person
from services.analyzer.model.history import history as model_history
from services.analyzer.model.risk import Risk
from services.analyzer.repository import directory, responses, unverified
from services.analyzer.requests.reading import DecisionMakersHeard
from services.analyzer.verbatims.sides import side_themes
from shared.errors import InvalidRequest


def finite(value: float | None) -> float | None:
    """The value, or None for a figure JSON cannot carry (an infinite standard error, NaN)."""
    return value if value is not None and math.isfinite(value) else None


def role_views(roles: tuple[RolePosition, ...]) -> list[RoleView]:
    """The role positions as the API shows them."""
    return [
        RoleView(
            role=r.role,
            side=r.side,
            position=r.position,
            confidence=r.confidence,
            se=finite(r.se),
            stakeholders=r.stakeholders,
        )
        for r in roles
    ]


def widest_gap(split: Divergence | None) -> WidestGap | None:
    """The widest gap as the API shows it; None without one."""
    if split is None:
        return None
    se = finite(split.se)
    return WidestGap(
        high_role=split.high.role,
        low_role=split.low.role,
        gap=split.gap,
        se=se,
        lower=finite(split.lower) if se is not None else None,
    )


def risk_view(risk: Risk | None) -> RiskView | None:
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
    return finite(risk * annual_value)


def compact_coverage(heard: DecisionMakersHeard | None) -> CompactCoverage | None:
    """The account list's coverage; None for an account without decision makers (nobody to hear)."""
    if heard is None or heard.total == 0:
        return None
    return CompactCoverage(decision_makers_heard=heard.heard, decision_makers=heard.total)


async def account_view(session: AsyncSession, account: Account, snap: AccountSnapshot) -> AccountView:
    """The account as ``GET /v1/accounts/{account_id}`` shows it, from its snapshot (the dashboard shows it too)."""
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
        widest_gap=widest_gap(split),
        dispersion=snap.dispersion,
        trend=snap.trend,
        answer_noise=finite(snap.answer_noise),
        risk=risk_view(snap.risk),
        nps=snap.nps,
        classic=dataclasses.asdict(snap.classic) if snap.classic is not None else None,
        open_alerts=int(open_alerts or 0),
        roles=role_views(snap.roles),
        supplier_roles=role_views(snap.supplier_roles),
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
                se=finite(positions[sid].se) if sid in positions else None,
                responses=stats[sid].responses if sid in stats else 0,
                last_response_at=stats[sid].last_response_at if sid in stats else None,
                unverified_responses=held_unverified.by_stakeholder.get(sid, 0),
            )
            for sid, person in sorted(people.items())
        ],
        unverified_answers=held_unverified.total,
    )


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
