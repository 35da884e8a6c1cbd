"""Response bodies of the survey-request routes (docs/api.md, "Survey requests" and "Coverage")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from shared.vocabulary import Vocabulary


class RequestStatus(Vocabulary):
    """Where a survey request stands: pending until answered (fulfilled) or past its expiry (expired)."""

    PENDING = "pending"
    FULFILLED = "fulfilled"
    EXPIRED = "expired"


Status = RequestStatus  # the name the endpoints read


class QuestionView(BaseModel):
    """One suggested question."""

    kind: Literal["relationship", "transactional"]
    metric: str
    text: str
    dimension: str | None = None


class SurveyRequestView(BaseModel):
    """One survey request: whom to ask, at which moment, why, what, and what became of it."""

    request_id: str
    account_id: str
    stakeholder_id: str
    role: str
    decision_maker: bool
    moment: str
    moment_event_id: str | None = None
    reason: str
    detail: str
    questions: list[QuestionView]
    status: Status
    created_at: datetime
    expires_at: datetime
    fulfilled_at: datetime | None = None


class TallyView(BaseModel):
    """Requests made, fulfilled, expired and pending; the response rate is fulfilled over decided."""

    asked: int
    fulfilled: int
    expired: int
    pending: int
    response_rate: float | None = Field(description="fulfilled / (fulfilled + expired); null while none is decided")


class RoleCoverageView(BaseModel):
    """One client role: its people, how many were heard recently, when last, and its requests."""

    role: str
    people: int
    heard: int
    last_heard_at: datetime | None
    requests: TallyView


class DecisionMakerView(BaseModel):
    """One decision maker: when last heard, and whether within ``heard_within_days``."""

    stakeholder_id: str
    role: str
    last_heard_at: datetime | None
    heard: bool
    contactable: bool


class MomentCoverageView(BaseModel):
    """The requests made at one kind of moment (its label; ``cadence`` for rounds outside moments)."""

    moment: str
    requests: TallyView


class CoverageView(BaseModel):
    """Who in the account was heard and how recently, and how often the people asked answer."""

    account_id: str
    as_of: datetime
    heard_within_days: float
    decision_makers_heard: int
    decision_makers: list[DecisionMakerView]
    roles: list[RoleCoverageView]
    moments: list[MomentCoverageView]
    requests: TallyView
