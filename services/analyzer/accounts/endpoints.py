"""``/v1/accounts``: each account's single score beside the positions and the divergence it hides."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from services.analyzer.accounts.schemas import AccountSummary, AccountView, HistoryBucket
from services.analyzer.accounts.service import (
    account_history,
    account_view,
    compact_coverage,
    finite,
    role_views,
    value_at_risk,
)
from services.analyzer.assessment import Assessor
from services.analyzer.deps import FORBIDDEN, Limit, Offset, ReadKey, SessionDep, SettingsDep
from services.analyzer.repository import directory
from services.analyzer.requests import reading
from shared.errors import ERROR_RESPONSES, ErrorBody, NotFound

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=FORBIDDEN)
NOT_FOUND = {**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "Unknown account"}}


def _assessor(request: Request) -> Assessor:
    assessor: Assessor = request.app.state.assessor
    return assessor


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
            risk=finite(model.risk) if model else None,
            value_at_risk=value_at_risk(finite(model.risk) if model else None, account.annual_value),
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
            roles=role_views(p.roles),
            account_mean=p.account_mean,
            divergence=p.divergence,
        )
        for p in points
    ]
