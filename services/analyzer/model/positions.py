"""Positions of stakeholders, roles, sides and the account, from the stakeholders' decayed states.

A stakeholder's position is their own decayed mean (``decay.DecayedState``); influence cancels
inside one person, so it enters one level up: a role's position is the mean of its stakeholders'
positions weighted by confidence x influence (docs/model.md, "Choices and why"). Weighting by
influence too is the same formula as pooling every answer with weight influence x decay, except
that each person's answers are first summarised by their own position, so five end users answering
weekly do not drown one procurement lead answering quarterly.

A role's confidence is 1 - Π(1 - c_s), which equals the confidence of all its answers pooled:
1 - 0.5 ** Σ W_s. A side's position is the unweighted mean of its role positions (each role one voice);
the account mean is the client side's, the one number a single score would report. Stakeholders whose
role is still ``unassigned`` count in no role and so in no side or account figure: until the
directory names them they could be anyone, even a supplier employee.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from services.analyzer.model.decay import DEFAULT_HALF_LIFE, DecayedState

Side = Literal["client", "supplier"]

UNASSIGNED: Final = "unassigned"
OVERALL_DIMENSION: Final = "overall"


def dimension_key(dimension: str | None) -> str:
    """The dimension an answer counts under: its own, or ``overall`` when it names none."""
    return dimension if dimension else OVERALL_DIMENSION


@dataclass(frozen=True, slots=True)
class StakeholderPosition:
    """One person's position as of a time, with who they are and the evidence behind it."""

    stakeholder_id: str
    role: str
    side: Side
    influence: float
    position: float | None
    confidence: float
    responses: int
    last_response_at: datetime | None
    known_since: datetime | None = None
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RolePosition:
    """A role's pooled position and confidence on one side, and how many people it rests on."""

    role: str
    side: Side
    position: float
    confidence: float
    stakeholders: int


@dataclass(frozen=True, slots=True)
class SidePosition:
    """A side's (or the account's) position: mean of its role positions, and pooled confidence."""

    position: float
    confidence: float
    roles: int


def stakeholder_position(
    stakeholder_id: str,
    state: DecayedState,
    *,
    role: str,
    side: Side,
    influence: float,
    at: datetime,
    half_life: timedelta = DEFAULT_HALF_LIFE,
    known_since: datetime | None = None,
    evidence: Sequence[str] = (),
) -> StakeholderPosition:
    """Read a stakeholder's state as of ``at`` into a position with confidence."""
    if influence <= 0:
        raise ValueError("influence must be positive")
    return StakeholderPosition(
        stakeholder_id=stakeholder_id,
        role=role,
        side=side,
        influence=influence,
        position=state.position,
        confidence=state.confidence_at(at, half_life),
        responses=state.n,
        last_response_at=state.ref,
        known_since=known_since,
        evidence=tuple(evidence),
    )


def pooled_confidence(confidences: Iterable[float]) -> float:
    """1 - Π(1 - c): the confidence of all the underlying answers pooled together."""
    return 1.0 - math.prod(1.0 - c for c in confidences)


def _weighted_mean(members: Sequence[StakeholderPosition]) -> float:
    positions = [m.position for m in members if m.position is not None]
    weights = [m.confidence * m.influence for m in members if m.position is not None]
    total = math.fsum(weights)
    if total <= 0.0:
        # Every answer has decayed to nothing (centuries old): fall back to influence alone, the
        # role then has confidence 0 and no rule counts it anyway.
        weights = [m.influence for m in members if m.position is not None]
        total = math.fsum(weights)
    return math.fsum(w * p for w, p in zip(weights, positions, strict=True)) / total


def role_positions(stakeholders: Iterable[StakeholderPosition], *, side: Side = "client") -> tuple[RolePosition, ...]:
    """Each role's position on ``side`` over its stakeholders with a position, ordered by role."""
    members: dict[str, list[StakeholderPosition]] = {}
    for person in stakeholders:
        if person.side == side and person.role != UNASSIGNED and person.position is not None:
            members.setdefault(person.role, []).append(person)
    return tuple(
        RolePosition(
            role=role,
            side=side,
            position=_weighted_mean(people),
            confidence=pooled_confidence(p.confidence for p in people),
            stakeholders=len(people),
        )
        for role, people in sorted(members.items())
    )


def side_position(roles: Sequence[RolePosition]) -> SidePosition | None:
    """The mean of the role positions (each role one voice) with their pooled confidence."""
    if not roles:
        return None
    return SidePosition(
        position=math.fsum(r.position for r in roles) / len(roles),
        confidence=pooled_confidence(r.confidence for r in roles),
        roles=len(roles),
    )


def account_mean(roles: Sequence[RolePosition]) -> float | None:
    """The single score: the mean of the client role positions, over roles with any answer."""
    client = side_position([r for r in roles if r.side == "client"])
    return None if client is None else client.position
