"""The portfolio as ``GET /v1/portfolio`` shows it (docs/api.md, "Portfolio"; docs/model.md, "Portfolio")."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from pydantic import BaseModel, Field

from services.analyzer.portfolio.service import PortfolioResult

SEGMENT = "the accounts' segment (null: accounts without one)"


class CellView(BaseModel):
    """One role in one segment."""

    segment: str | None = Field(description=SEGMENT)
    role: str
    accounts: int = Field(description="accounts where the role has a position")
    position: float = Field(description="mean of those accounts' role positions (-1 ... +1), each account one voice")
    se: float | None = Field(description="its standard error (null: some account's is unknown)")


class LowSideView(BaseModel):
    """How often a role is the low side of its account's widest gap, in one segment."""

    segment: str | None = Field(description=SEGMENT)
    role: str
    low_in: int = Field(description="split accounts where the role is the low side")
    split_accounts: int = Field(description="the segment's accounts with a widest gap")
    share: float = Field(description="low_in / split_accounts")
    mean_gap: float = Field(description="mean widest gap of the accounts where the role is low")


class DimensionDriverView(BaseModel):
    """A dimension on which the high role stands above the low role, over a segment's split accounts."""

    segment: str | None = Field(description=SEGMENT)
    dimension: str
    accounts: int = Field(description="split accounts where both roles are heard on the dimension")
    mean_gap: float = Field(description="mean of the high role's position there minus the low role's")


class ThemeDriverView(BaseModel):
    """A theme the low roles of a segment's split accounts talk about."""

    segment: str | None = Field(description=SEGMENT)
    theme: str
    accounts: int = Field(description="split accounts whose low role names it")
    mentions: int = Field(description="comments of those low roles naming it")
    polarity: float = Field(description="mean polarity (-1 ... +1) of those mentions")


class ValueAtRiskView(BaseModel):
    """Expected value at risk of a segment, attributed to each account's lowest decision role."""

    segment: str | None = Field(description=SEGMENT)
    role: str = Field(description="the decision role the risk model found lowest, or 'unattributed'")
    accounts: int
    annual_value: float = Field(description="their summed annual value")
    value_at_risk: float = Field(description="their summed renewal risk x annual value")


class TrendPointView(BaseModel):
    """A role's mean position as of a quarter's end."""

    segment: str | None = Field(description=SEGMENT + "; in overall_trends: every selected account")
    role: str
    quarter: str = Field(description="e.g. 2026-Q2")
    accounts: int
    position: float


class GapTrendView(BaseModel):
    """The mean widest gap of the split accounts as of a quarter's end, and the role most often low."""

    segment: str | None = Field(description=SEGMENT + "; in overall_gaps: every selected account")
    quarter: str
    split_accounts: int
    mean_gap: float | None
    most_often_low: str | None


class PortfolioView(BaseModel):
    """Patterns across the portfolio (docs/api.md, "Portfolio")."""

    as_of: datetime | None = Field(description="the latest event time of the selected accounts")
    segments: list[str] = Field(description="the segments asked for (empty: all)")
    accounts: int = Field(description="accounts read (those the model holds, by id, up to limit)")
    truncated: bool = Field(description="whether more accounts matched than limit")
    cells: list[CellView]
    low_sides: list[LowSideView]
    dimensions: list[DimensionDriverView]
    themes: list[ThemeDriverView]
    value_at_risk: list[ValueAtRiskView]
    quarters: list[str] = Field(description="the quarters of the trends, oldest first")
    trends: list[TrendPointView]
    gap_trends: list[GapTrendView]
    overall_trends: list[TrendPointView]
    overall_gaps: list[GapTrendView]


def portfolio_view(result: PortfolioResult) -> PortfolioView:
    """The result as the API shows it."""
    figures = dataclasses.asdict(result.figures)
    return PortfolioView.model_validate(
        {**figures, "as_of": result.as_of, "segments": list(result.segments), "truncated": result.truncated}
    )
