"""Response bodies of the analyzer API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class StakeholderView(BaseModel):
    """One person at an account, with what the analyzer holds about them."""

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


class AccountView(BaseModel):
    """An account with its stakeholders (positions and divergence are filled in by the model)."""

    account_id: str
    name: str | None
    segment: str | None
    renewal_date: date | None
    annual_value: float | None
    aliases: list[str]
    stakeholders: list[StakeholderView]
    as_of: datetime
