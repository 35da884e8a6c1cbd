"""Response and request bodies of the analyzer API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class StakeholderView(BaseModel):
    """One person at an account, with their position and what the analyzer holds about them."""

    stakeholder_id: str
    name: str | None
    role: str
    side: str
    influence: float
    aliases: list[str]
    position: float | None = None
    confidence: float | None = None
    responses: int
    last_response_at: datetime | None


class RoleView(BaseModel):
    """A role's pooled position on the client side."""

    role: str
    side: str = "client"
    position: float
    confidence: float
    stakeholders: int


class WidestGap(BaseModel):
    """The two client roles furthest apart, among those with enough confidence."""

    high_role: str
    low_role: str
    gap: float


class AccountSummary(BaseModel):
    """One row of ``GET /v1/accounts``."""

    account_id: str
    name: str | None
    segment: str | None
    renewal_date: date | None
    account_mean: float | None
    divergence: float | None
    nps: float | None
    open_alerts: int


class AccountView(AccountSummary):
    """An account: its single score beside the positions and the divergence it hides."""

    annual_value: float | None
    aliases: list[str]
    widest_gap: WidestGap | None
    dispersion: float | None
    trend: float | None
    classic: dict[str, Any] | None
    roles: list[RoleView]
    supplier_roles: list[RoleView]
    stakeholders: list[StakeholderView]
    as_of: datetime


class HistoryBucket(BaseModel):
    """The account as of the end of one bucket."""

    bucket_start: date
    as_of: datetime
    roles: list[RoleView]
    account_mean: float | None
    divergence: float | None


class AlertChange(BaseModel):
    """Body of acknowledge and resolve."""

    by: str = Field(min_length=1, max_length=256)
    note: str | None = Field(default=None, max_length=4000)
