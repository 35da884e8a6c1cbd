"""``/v1/loop`` and ``/v1/accounts/{id}/loop``: how quickly alerts are acted on and how often a plan closed the gap."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from services.analyzer.assessment import Assessor
from services.analyzer.deps import FORBIDDEN, ReadKey, SessionDep
from services.analyzer.plans import service
from services.analyzer.plans.loop import LoopFigures
from services.analyzer.plans.schemas import LoopView
from services.analyzer.repository import directory
from shared.errors import ERROR_RESPONSES, ErrorBody, NotFound

router = APIRouter(tags=["action plans"], responses=FORBIDDEN)
NOT_FOUND = {**ERROR_RESPONSES, 404: {"model": ErrorBody, "description": "Unknown account"}}


def _view(account_id: str | None, figures: LoopFigures) -> LoopView:
    figures_now = {"account_id": account_id, "as_of": datetime.now(UTC), **dataclasses.asdict(figures)}
    return LoopView.model_validate(figures_now)


def _assessor(request: Request) -> Assessor:
    assessor: Assessor = request.app.state.assessor
    return assessor


@router.get("/v1/loop", response_model=LoopView, responses=ERROR_RESPONSES, summary="The portfolio's loop figures")
async def portfolio_loop(request: Request, session: SessionDep, _: ReadKey) -> LoopView:
    """Time to acknowledge, to plan, to completion and to recovery over every account's alerts, and the share
    of alerts whose gap closed after a plan."""
    return _view(None, await service.loop(session, _assessor(request), None))


@router.get(
    "/v1/accounts/{account_id}/loop", response_model=LoopView, responses=NOT_FOUND, summary="An account's loop figures"
)
async def account_loop(account_id: str, request: Request, session: SessionDep, _: ReadKey) -> LoopView:
    """The loop figures over one account's alerts; 404 for an unknown account."""
    if await directory.get_account(session, account_id) is None:
        raise NotFound(f"no account {account_id!r}")
    return _view(account_id, await service.loop(session, _assessor(request), account_id))
