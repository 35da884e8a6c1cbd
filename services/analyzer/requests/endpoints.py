"""``/v1/survey-requests`` and ``/v1/accounts/{id}/coverage``: the requests made, and each account's coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request

from services.analyzer.assessment import Assessor
from services.analyzer.db.request_models import SurveyRequest
from services.analyzer.deps import FORBIDDEN, Limit, Offset, ReadKey, SessionDep, SettingsDep
from services.analyzer.repository import directory
from services.analyzer.requests import reading, repository
from services.analyzer.requests.coverage import Tally
from services.analyzer.requests.schemas import (
    CoverageView,
    DecisionMakerView,
    MomentCoverageView,
    RoleCoverageView,
    Status,
    SurveyRequestView,
    TallyView,
)
from services.analyzer.requests.service import request_record
from shared.errors import ERROR_RESPONSES, ErrorBody, NotFound

router = APIRouter(tags=["survey requests"], responses=FORBIDDEN)
NOT_FOUND: dict[int | str, dict[str, Any]] = {**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "Not found"}}


def _view(row: SurveyRequest, now: datetime) -> SurveyRequestView:
    record = request_record(row)
    record["status"] = repository.effective_status(row, now)
    return SurveyRequestView.model_validate(record)


@router.get(
    "/v1/survey-requests",
    response_model=list[SurveyRequestView],
    responses=ERROR_RESPONSES,
    summary="Survey requests, newest first",
)
async def list_requests(
    session: SessionDep,
    _: ReadKey,
    limit: Limit = 100,
    offset: Offset = 0,
    account_id: str | None = None,
    stakeholder_id: str | None = None,
    status: Status | None = None,
) -> list[SurveyRequestView]:
    """Requests filtered by account, person and status (a pending request past its expiry reads as expired)."""
    now = datetime.now(UTC)
    rows = await repository.search(
        session,
        account_id=account_id,
        stakeholder_id=stakeholder_id,
        status=status,
        now=now,
        limit=limit,
        offset=offset,
    )
    return [_view(row, now) for row in rows]


@router.get(
    "/v1/survey-requests/{request_id}",
    response_model=SurveyRequestView,
    responses=NOT_FOUND,
    summary="One survey request",
)
async def get_request(request_id: str, session: SessionDep, _: ReadKey) -> SurveyRequestView:
    """One request and what became of it."""
    row = await repository.get(session, request_id)
    if row is None:
        raise NotFound(f"no survey request {request_id!r}")
    return _view(row, datetime.now(UTC))


def _tally(t: Tally) -> TallyView:
    return TallyView(
        asked=t.asked, fulfilled=t.fulfilled, expired=t.expired, pending=t.pending, response_rate=t.response_rate
    )


@router.get(
    "/v1/accounts/{account_id}/coverage",
    response_model=CoverageView,
    responses=NOT_FOUND,
    summary="Who in the account was heard, how recently, and the response rates",
)
async def account_coverage(
    account_id: str, request: Request, session: SessionDep, settings: SettingsDep, _: ReadKey
) -> CoverageView:
    """Which client roles and decision makers were heard and how recently; response rate by role and by moment.

    Heard means an answer within ``SURVEY_REQUEST_SILENT_AFTER_S``; a response rate is fulfilled over
    fulfilled plus expired requests.
    """
    if await directory.get_account(session, account_id) is None:
        raise NotFound(f"no account {account_id!r}")
    assessor: Assessor = request.app.state.assessor
    heard_within = settings.survey_request_silent_after_s
    found = (
        await reading.account_coverage(
            session,
            account_id,
            decision_roles=assessor.config.thresholds.decision_roles,
            heard_within=timedelta(seconds=heard_within),
            now=datetime.now(UTC),
        )
    ).coverage
    return CoverageView(
        account_id=account_id,
        as_of=found.as_of,
        heard_within_days=heard_within / 86_400,
        decision_makers_heard=sum(d.heard for d in found.decision_makers),
        decision_makers=[
            DecisionMakerView(
                stakeholder_id=d.stakeholder_id,
                role=d.role,
                last_heard_at=d.last_heard_at,
                heard=d.heard,
                contactable=d.contactable,
            )
            for d in found.decision_makers
        ],
        roles=[
            RoleCoverageView(
                role=r.role,
                people=r.people,
                heard=r.heard,
                last_heard_at=r.last_heard_at,
                requests=_tally(r.requests),
            )
            for r in found.roles
        ],
        moments=[MomentCoverageView(moment=m, requests=_tally(t)) for m, t in found.moments],
        requests=_tally(found.requests),
    )
