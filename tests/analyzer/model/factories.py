"""Plain factories for the model tests: answers, states, people, roles and snapshots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.analyzer.model import (
    EMPTY,
    AccountSnapshot,
    ActiveAlert,
    AlertType,
    Answer,
    DecayedState,
    RolePosition,
    Severity,
    StakeholderPosition,
    account_mean,
    add,
    divergence,
    side_position,
)
from services.analyzer.model.alerts import AlertStatus
from services.analyzer.model.positions import Side
from services.analyzer.model.thresholds import DECISION_ROLES

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(days: float) -> datetime:
    """An event time ``days`` after the story's start."""
    return T0 + timedelta(days=days)


def create_answer(value: float, day: float = 0.0, event_id: str | None = None) -> Answer:
    """An answer of ``value`` given on ``day``."""
    return Answer(value=value, at=at(day), event_id=event_id or f"ev-{value:+.3f}-{day:g}")


def create_state(*answers: tuple[float, float]) -> DecayedState:
    """A state holding answers given as (value, day)."""
    state = EMPTY
    for value, day in answers:
        state = add(state, create_answer(value, day))
    return state


def create_person(
    stakeholder_id: str,
    role: str,
    position: float | None,
    confidence: float = 0.9,
    *,
    side: Side = "client",
    influence: float = 1.0,
    last_response_day: float | None = 0.0,
    known_since_day: float | None = None,
    evidence: Sequence[str] = (),
    decision_maker: bool | None = None,
    se: float = 0.0,
) -> StakeholderPosition:
    """A stakeholder's position as the rules see it (a decision maker as their role is by default;
    measured exactly unless ``se`` says otherwise)."""
    return StakeholderPosition(
        stakeholder_id=stakeholder_id,
        role=role,
        side=side,
        influence=influence,
        position=position,
        confidence=confidence if position is not None else 0.0,
        responses=0 if position is None else 1,
        last_response_at=None if last_response_day is None else at(last_response_day),
        known_since=None if known_since_day is None else at(known_since_day),
        evidence=tuple(evidence) or (f"ev-{stakeholder_id}",),
        se=se if position is not None else math.inf,
        decision_maker=(role in DECISION_ROLES and side == "client") if decision_maker is None else decision_maker,
    )


def create_role(role: str, position: float, confidence: float = 0.9, *, side: Side = "client") -> RolePosition:
    """A role's pooled position."""
    return RolePosition(role=role, side=side, position=position, confidence=confidence, stakeholders=1, se=0.0)


def create_snapshot(
    roles: dict[str, float] | Sequence[RolePosition] = (),
    *,
    day: float = 200.0,
    min_confidence: float = 0.25,
    people: Sequence[StakeholderPosition] | None = None,
    **overrides: Any,
) -> AccountSnapshot:
    """A snapshot on ``day`` whose derived figures follow from ``roles`` unless overridden."""
    if isinstance(roles, dict):
        roles = [create_role(role, position) for role, position in roles.items()]
    roles = tuple(sorted(roles, key=lambda r: r.role))
    if people is None:
        people = [create_person(f"{r.role}-1", r.role, r.position, r.confidence, last_response_day=day) for r in roles]
    fields: dict[str, Any] = {
        "account_id": "acme",
        "as_of": at(day),
        "stakeholders": tuple(people),
        "roles": roles,
        "account_mean": account_mean(roles),
        "client_side": side_position(roles),
        "divergence": divergence(roles, min_confidence=min_confidence),
        "evidence": ("ev-trigger",),
    }
    fields.update(overrides)
    return AccountSnapshot(**fields)


def create_active(
    type_: AlertType,
    severity: Severity = "warning",
    *,
    key: str | None = None,
    status: AlertStatus = AlertStatus.OPEN,
    opened_day: float = 0.0,
    alert_id: str | None = None,
) -> ActiveAlert:
    """An alert already active on the account."""
    return ActiveAlert(
        alert_id=alert_id or f"alr-{type_}-{key}",
        type=type_,
        key=key,
        severity=severity,
        status=status,
        opened_as_of=at(opened_day),
    )


def renewal_on(day: float) -> date:
    """The calendar date ``day`` days after the start."""
    return at(day).date()
