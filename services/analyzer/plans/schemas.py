"""Request and response bodies of the action-plan routes (docs/api.md, "Action plans")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.analyzer.plans.lifecycle import PlanStatus

Owner = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Step = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
By = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
MAX_STEPS = 50


class PlanCreate(BaseModel):
    """A new plan on an alert: who owns it, by when, its steps, and an optional first note."""

    model_config = ConfigDict(extra="forbid")

    owner: Owner
    due_date: date | None = None
    steps: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)
    note: Text | None = None
    by: By | None = Field(default=None, description="who writes the note; absent: the API key's id")


class PlanChange(BaseModel):
    """A change to a plan: any of status, owner, due date (null clears it) and steps; at least one."""

    model_config = ConfigDict(extra="forbid")

    status: PlanStatus | None = None
    owner: Owner | None = None
    due_date: date | None = None
    steps: list[Step] | None = Field(default=None, max_length=MAX_STEPS)

    @model_validator(mode="after")
    def _something(self) -> PlanChange:
        if not self.model_fields_set:
            raise ValueError("name at least one of status, owner, due_date, steps")
        for name in ("status", "owner", "steps"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class NoteCreate(BaseModel):
    """A progress note."""

    model_config = ConfigDict(extra="forbid")

    text: Text
    by: By | None = Field(default=None, description="who writes it; absent: the API key's id")


class NoteView(BaseModel):
    """One progress note."""

    at: datetime
    by: str
    text: str


class GapView(BaseModel):
    """The gap between two client roles at one time, with its standard error and lower bound."""

    high_role: str
    low_role: str
    gap: float
    se: float | None = Field(description="standard error of the gap; null when a role has no error yet")
    lower: float | None = Field(description="gap - z*se, the figure the divergence alerts are graded on")
    as_of: datetime


class OutcomeView(BaseModel):
    """Before and after: the after once the plan is done and its roles answered since."""

    before: GapView | None
    after: GapView | None
    change: float | None = Field(description="after - before (negative: the gap narrowed)")
    change_se: float | None
    narrowed: bool | None = Field(description="the gap narrowed by more than z standard errors of the change")
    closed: bool | None = Field(description="the after's lower bound is below the divergence clear level")
    follow_up_requests: int
    follow_up_fulfilled: int
    answered_roles: list[str]
    summary: str = Field(description="the before and after in one sentence, with the standard errors")


class PlanView(BaseModel):
    """One action plan, its notes, and its gap before and after."""

    plan_id: str
    alert_id: str
    account_id: str
    owner: str
    due_date: date | None
    steps: list[str]
    status: PlanStatus
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    notes: list[NoteView]
    outcome: OutcomeView


class DurationView(BaseModel):
    """How long one step of the loop took, over the alerts that took it."""

    alerts: int = Field(description="alerts that took the step")
    median_hours: float | None = Field(description="null when no alert took it")
    mean_hours: float | None = Field(description="null when no alert took it")


class LoopView(BaseModel):
    """An account's or the portfolio's loop: from alert to plan to recovery (docs/model.md, Closing the loop)."""

    account_id: str | None = Field(description="the account; null for the portfolio")
    as_of: datetime
    alerts: int = Field(description="alerts counted (every type but alignment_restored)")
    acknowledged: int
    planned: int = Field(description="alerts with at least one plan")
    completed: int = Field(description="alerts whose first done plan is done")
    recovered: int = Field(description="alerts whose condition cleared")
    to_acknowledge: DurationView = Field(description="alert raised to acknowledged (wall clock)")
    to_plan: DurationView = Field(description="alert raised to its first plan (wall clock)")
    to_completion: DurationView = Field(description="alert raised to its first plan done (wall clock)")
    to_recovery: DurationView = Field(description="alert opened to its condition cleared (event time)")
    measured: int = Field(description="alerts with a done plan whose after was read (its roles answered since)")
    closed: int = Field(description="of those, alerts whose latest done plan's after closed the gap")
    closed_share: float | None = Field(description="closed / measured; null when none was measured")
