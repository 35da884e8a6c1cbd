"""``GET /v1/portfolio`` and ``GET /v1/portfolio.csv``: patterns across the portfolio (docs/api.md, "Portfolio")."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.assessment import Assessor
from services.analyzer.deps import FORBIDDEN, ReadKey, SessionDep
from services.analyzer.portfolio import service
from services.analyzer.portfolio.export import to_csv
from services.analyzer.portfolio.schemas import PortfolioView, portfolio_view
from shared.errors import ERROR_RESPONSES

router = APIRouter(tags=["portfolio"], responses=FORBIDDEN)

MAX_SEGMENTS: Final = 20
CSV_TYPE: Final = "text/csv; charset=utf-8"
CSV_RESPONSE: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {CSV_TYPE: {}}, "description": "Every figure, one row each (docs/api.md, Portfolio)"}
}

Segments = Annotated[
    list[str],
    Query(
        alias="segment",
        max_length=MAX_SEGMENTS,
        description="only accounts of these segments (repeat the parameter; none: every account)",
    ),
]
AccountLimit = Annotated[
    int, Query(ge=1, le=service.MAX_ACCOUNTS, description="at most this many accounts, by id, are read")
]
Quarters = Annotated[
    int, Query(ge=1, le=service.MAX_QUARTERS, description="quarters of the trends, up to the latest event's")
]


async def _result(
    request: Request, session: AsyncSession, segments: list[str], limit: int, quarters: int
) -> PortfolioView:
    """The view over the selection, read with the model configuration the app runs with."""
    assessor: Assessor = request.app.state.assessor
    found = await service.build(session, assessor.config, segments=segments, limit=limit, quarters=quarters)
    return portfolio_view(found)


def _csv(view: PortfolioView) -> Response:
    return Response(
        to_csv(view),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": 'attachment; filename="portfolio.csv"'},
    )


@router.get(
    "/v1/portfolio",
    response_model=PortfolioView,
    responses={**ERROR_RESPONSES, **CSV_RESPONSE},
    summary="Patterns across the portfolio",
)
async def portfolio(
    request: Request,
    session: SessionDep,
    _: ReadKey,
    segment: Segments = [],  # noqa: B006 (FastAPI copies a default; it is never mutated)
    limit: AccountLimit = service.DEFAULT_ACCOUNTS,
    quarters: Quarters = service.DEFAULT_QUARTERS,
    format: Literal["json", "csv"] = "json",
) -> PortfolioView | Response:
    """Role x segment positions with their uncertainty, low sides, drivers, value at risk and quarterly trends."""
    view = await _result(request, session, segment, limit, quarters)
    return _csv(view) if format == "csv" else view


@router.get(
    "/v1/portfolio.csv",
    response_class=Response,
    responses={**ERROR_RESPONSES, **CSV_RESPONSE},
    summary="Patterns across the portfolio, as CSV",
)
async def portfolio_csv(
    request: Request,
    session: SessionDep,
    _: ReadKey,
    segment: Segments = [],  # noqa: B006 (FastAPI copies a default; it is never mutated)
    limit: AccountLimit = service.DEFAULT_ACCOUNTS,
    quarters: Quarters = service.DEFAULT_QUARTERS,
) -> Response:
    """The same figures as ``GET /v1/portfolio``, one CSV row each."""
    return _csv(await _result(request, session, segment, limit, quarters))
