"""``GET /v1/backtest``: how early and how precisely each rule flagged the renewals that went badly."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request

from services.analyzer.backtest.schemas import BacktestView
from services.analyzer.backtest.service import compute
from services.analyzer.deps import FORBIDDEN, ReadKey, SessionDep
from shared.errors import ERROR_RESPONSES

router = APIRouter(prefix="/v1/backtest", tags=["backtest"], responses=FORBIDDEN)
MAX_LOOKBACK_DAYS: Final = 730


@router.get("", response_model=BacktestView, responses=ERROR_RESPONSES, summary="Rules against renewal outcomes")
async def backtest(
    request: Request,
    session: SessionDep,
    _: ReadKey,
    lookback_days: Annotated[
        int, Query(ge=1, le=MAX_LOOKBACK_DAYS, description="Days before each renewal in which a flag counts")
    ] = 180,
    account_prefix: Annotated[
        str | None, Query(min_length=1, max_length=128, description="Only accounts whose id starts with this")
    ] = None,
    detail: Annotated[bool, Query(description="Add each renewal with each rule's lead time")] = False,
) -> BacktestView:
    """Over the stored ``renewal_outcome`` moments: how many churned or downsized accounts each rule
    flagged in the lookback window before the renewal, its precision, recall, false alarms and median
    lead time; the divergence alerts beside the classic account-NPS rules (below 0, below -20)."""
    horizon = request.app.state.assessor.config.thresholds.risk_horizon
    return await compute(
        session,
        lookback=timedelta(days=lookback_days),
        horizon=horizon,
        account_prefix=account_prefix,
        detail=detail,
        max_rows=request.app.state.settings.analyzer_backtest_max_rows,
    )
