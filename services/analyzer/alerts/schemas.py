"""The bodies of ``/v1/alerts``: the public alert record and the change a person makes to an alert."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.analyzer.model.alerts import AlertStatus, AlertType, Severity
from services.analyzer.verbatims.schemas import ThemesBySide

# The record holds its times as the ISO 8601 strings it was written with, and is shown as stored.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class AlertPosition(BaseModel):
    """One position behind an alert: a client role's, a person's (with ``stakeholder_id``) or a supplier role's."""

    model_config = ConfigDict(extra="allow")

    role: str
    position: float
    confidence: float
    stakeholder_id: str | None = Field(default=None, description="present when the position is one person's")
    side: str | None = Field(default=None, description="present, as supplier, for a supplier role")


class AlertChangeMark(BaseModel):
    """Who acknowledged or resolved an alert, and when."""

    by: str | None = Field(description="null when the condition cleared on its own")
    at: Timestamp


class AlertView(BaseModel):
    """The public alert record (docs/api.md, "The alert record"), as ``GET /v1/alerts`` lists it.

    Fields that only some alerts carry are absent, not null, on the others; fields a later version adds
    pass through (extra fields allowed).
    """

    # Records are stored as produced and shown field for field; a field this model does not name is kept.
    model_config = ConfigDict(extra="allow")

    alert_id: str = Field(description="alr_ + 32 hex digits, stable for the same events in any order")
    type: AlertType
    severity: Severity = Field(description="moves both ways while the alert is open")
    status: AlertStatus
    account_id: str
    as_of: Timestamp | None = Field(description="the account's time of the alert's latest change")
    opened_as_of: Timestamp = Field(description="the account's time when the alert opened")
    created_at: Timestamp = Field(description="wall-clock time the alert was opened")
    summary: str = Field(description="one sentence saying what holds, with the figures")
    metrics: dict[str, Any] = Field(description="the account figures every alert carries, plus the alert type's own")
    positions: list[AlertPosition] = Field(description="the positions behind the alert")
    evidence: list[str] = Field(description="up to 20 event ids of the answers and moments that produced it")
    resolved_as_of: Timestamp | None = Field(
        default=None, description="the account's time when its condition cleared (absent while it holds)"
    )
    acknowledged: AlertChangeMark | None = Field(default=None, description="once someone acknowledged it")
    resolved: AlertChangeMark | None = Field(default=None, description="once it was resolved")
    note: str | None = Field(default=None, description="the last note given when acknowledging or resolving")
    time_to_acknowledge_s: float | None = Field(
        default=None, description="seconds from the alert's creation to its acknowledgement (absent until then)"
    )
    themes_by_side: ThemesBySide | None = Field(
        default=None,
        description="split alerts: what the roles at either end of the gap talk about, read from the current comments",
    )


class AlertChange(BaseModel):
    """Body of acknowledge and resolve."""

    by: str | None = Field(
        default=None, min_length=1, max_length=256, description="who made the change; absent: the API key's id"
    )
    note: str | None = Field(default=None, max_length=4000)
