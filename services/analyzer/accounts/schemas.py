"""The bodies of ``/v1/accounts``: an account, a row of the account list, a history bucket."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from services.analyzer.verbatims.schemas import ThemesBySide


class StakeholderView(BaseModel):
    """One person at an account, with their position and what the analyzer holds about them."""

    stakeholder_id: str
    name: str | None
    role: str
    side: str
    influence: float
    aliases: list[str]
    decision_maker: bool = Field(
        default=False,
        description="whether they decide the renewal: their own flag, else their role's default (client side only)",
    )
    position: float | None = None
    confidence: float | None = None
    se: float | None = Field(default=None, description="standard error of the position; null before their first answer")
    responses: int
    last_response_at: datetime | None
    unverified_responses: int = Field(
        default=0,
        description=(
            "answers naming this person only by editable survey-link parameters (no valid link token): "
            "held and counted here, never in the position"
        ),
    )


class RoleView(BaseModel):
    """A role's pooled position on the client side."""

    role: str
    side: str = "client"
    position: float
    confidence: float
    se: float | None = Field(
        default=None, description="standard error of the role's position; null when it cannot be measured"
    )
    stakeholders: int


class WidestGap(BaseModel):
    """The two client roles whose gap best survives the noise, among those with enough confidence."""

    high_role: str
    low_role: str
    gap: float
    se: float | None = Field(default=None, description="standard error of the gap; null when it cannot be measured")
    lower: float | None = Field(
        default=None,
        description="gap - THRESHOLDS__DIVERGENCE_Z x se: how much of the gap survives the noise; null with se",
    )


class RiskFactorView(BaseModel):
    """One factor of an account's renewal risk."""

    name: str = Field(description="the factor (docs/model.md, Renewal risk)")
    value: float = Field(description="its value at this account, on the factor's own scale")
    contribution: float = Field(
        description="coefficient x (value - a healthy account's value), in log-odds: positive raises the risk"
    )


class RiskView(BaseModel):
    """An account's renewal risk: the probability its next renewal goes badly, and why."""

    probability: float = Field(description="0 to 1")
    model_version: str = Field(description="the version of the risk model's coefficients")
    reasons: list[str] = Field(description="the factors that raise the risk most (at most three), largest first")
    factors: list[RiskFactorView] = Field(description="every factor of the model, in the model's order")
    lowest_decision_role: str | None = Field(
        description="the decision-making client role behind lowest_decision_maker; null when none has answered"
    )


class _AccountFigures(BaseModel):
    """What a row of ``GET /v1/accounts`` and the full account share."""

    account_id: str
    name: str | None
    segment: str | None
    renewal_date: date | None
    account_mean: float | None
    divergence: float | None
    nps: float | None
    open_alerts: int


class CompactCoverage(BaseModel):
    """How many of an account's decision makers were heard recently, out of how many (the account list's coverage)."""

    decision_makers_heard: int = Field(
        description="decision makers with an answer within SURVEY_REQUEST_SILENT_AFTER_S (docs/api.md, Coverage)"
    )
    decision_makers: int = Field(description="the account's decision makers, heard or not")


class AccountSummary(_AccountFigures):
    """One row of ``GET /v1/accounts``."""

    coverage: CompactCoverage | None = Field(
        default=None, description="decision makers heard, out of all; null for an account without decision makers"
    )

    risk: float | None = Field(
        default=None,
        description="renewal-risk probability at the account's newest evaluation point; null until evaluated",
    )
    value_at_risk: float | None = Field(default=None, description="risk x annual_value; null unless both are known")


class AccountView(_AccountFigures):
    """An account: its single score beside the positions and the divergence it hides."""

    annual_value: float | None
    aliases: list[str]
    widest_gap: WidestGap | None
    dispersion: float | None
    trend: float | None
    answer_noise: float | None = Field(
        default=None, description="standard deviation of one answer (-1 ... +1 scale), as measured in this account"
    )
    risk: RiskView | None = Field(default=None, description="the renewal risk; null when it cannot be computed")
    classic: dict[str, Any] | None
    roles: list[RoleView]
    supplier_roles: list[RoleView]
    stakeholders: list[StakeholderView]
    themes_by_side: ThemesBySide | None = Field(
        default=None,
        description="what the roles at either end of the widest gap talk about (null without a gap)",
    )
    unverified_answers: int = Field(
        default=0,
        description=(
            "answers at this account whose respondent only editable survey-link parameters name: held and "
            "counted, never applied to positions (also those naming people the directory does not know)"
        ),
    )
    as_of: datetime


class HistoryBucket(BaseModel):
    """The account as of the end of one bucket."""

    bucket_start: date
    as_of: datetime
    roles: list[RoleView]
    account_mean: float | None
    divergence: float | None
