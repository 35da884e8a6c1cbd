"""Positions of stakeholders, roles, sides and the account, from the stakeholders' decayed states.

A stakeholder's position is their own decayed mean (``decay.DecayedState``); influence cancels
inside one person, so it enters one level up: a role's position is the mean of its stakeholders'
positions weighted by confidence x influence (docs/model.md, "Choices and why"). Weighting by
influence too is the same formula as pooling every answer with weight influence x decay, except
that each person's answers are first summarised by their own position, so five end users answering
weekly do not drown one procurement lead answering quarterly.

A role's confidence is 1 - Π(1 - c_s), which equals the confidence of all its answers pooled:
1 - 0.5 ** Σ W_s.

Every position also carries a standard error: a person's is noise / √W(t), the answer noise over the
square root of their decayed number of answers as of t (one fresh answer: the noise itself; the same
answer a half-life later: √2 times it), so a stale or single answer is uncertain and a run of
consistent answers is not. A role's is the standard error of its weighted mean of people
(docs/model.md, "Noise").

A side's position is the unweighted mean of its role positions (each role one voice);
the account mean is the client side's, the one number a single score would report. Stakeholders whose
role is still ``unassigned`` count in no role and so in no side or account figure: until the
directory names them they could be anyone, even a supplier employee.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from services.analyzer.model.decay import DEFAULT_HALF_LIFE, DecayedState, confidence_from_weight
from shared.events import Side as Side  # re-exported: the model reads the side vocabulary from here

UNASSIGNED: Final = "unassigned"
# How far apart two people of one role stand before their own answers show it (on -1 … +1), and how
# many people's worth of weight that prior carries: one person does not speak for a whole role.
ROLE_SPREAD_PRIOR: Final = 0.15
ROLE_SPREAD_PRIOR_PEOPLE: Final = 1.0
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
    # noise / √W(t); infinite while nothing is held (no evidence at all).
    se: float = math.inf
    # Whether this person decides the renewal (their own flag, else their role's default).
    decision_maker: bool = False


@dataclass(frozen=True, slots=True)
class RolePosition:
    """A role's pooled position, confidence and standard error on one side, and its head count."""

    role: str
    side: Side
    position: float
    confidence: float
    stakeholders: int
    se: float = math.inf


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
    noise: float | None = None,
    decision_maker: bool = False,
) -> StakeholderPosition:
    """Read a stakeholder's state as of ``at`` into a position with confidence.

    ``noise``: the standard deviation of one answer (``noise.answer_noise``); without it the
    standard error is left infinite.
    """
    if influence <= 0:
        raise ValueError("influence must be positive")
    weight = state.weight_at(at, half_life)
    return StakeholderPosition(
        stakeholder_id=stakeholder_id,
        role=role,
        side=side,
        influence=influence,
        position=state.position,
        confidence=confidence_from_weight(weight),
        responses=state.n,
        last_response_at=state.ref,
        known_since=known_since,
        evidence=tuple(evidence),
        se=noise / math.sqrt(weight) if noise is not None and weight > 0.0 else math.inf,
        decision_maker=decision_maker,
    )


def pooled_confidence(confidences: Iterable[float]) -> float:
    """1 - Π(1 - c): the confidence of all the underlying answers pooled together."""
    return 1.0 - math.prod(1.0 - c for c in confidences)


def _weighted_mean(members: Sequence[StakeholderPosition]) -> tuple[float, float]:
    """The members' mean weighted by confidence x influence, and its standard error."""
    held = [m for m in members if m.position is not None]
    weights = [m.confidence * m.influence for m in held]
    total = math.fsum(weights)
    if total <= 0.0:
        # Every answer has decayed to nothing (centuries old): fall back to influence alone, the
        # role then has confidence 0 and no rule counts it anyway.
        weights = [m.influence for m in held]
        total = math.fsum(weights)
    mean = math.fsum(w * m.position for w, m in zip(weights, held, strict=True) if m.position is not None) / total
    # Var(Σ ω_i x_i / Σ ω_i) = Σ ω_i² (se_i² + b²) / (Σ ω_i)²: each person's measurement error, and
    # b², how far one person of the role may stand from the role itself (the people are a sample of it).
    spread = math.fsum(
        w * (m.position - mean) ** 2 for w, m in zip(weights, held, strict=True) if m.position is not None
    )
    extra = len(held) - 1
    between = (ROLE_SPREAD_PRIOR_PEOPLE * ROLE_SPREAD_PRIOR**2 + extra * spread / total * len(held) / max(extra, 1)) / (
        ROLE_SPREAD_PRIOR_PEOPLE + extra
    )
    variance = math.fsum(w * w * (m.se**2 + between) for w, m in zip(weights, held, strict=True) if w > 0.0)
    se = math.sqrt(variance) / total if all(math.isfinite(m.se) for m in held) else math.inf
    return mean, se


def _role(role: str, side: Side, people: Sequence[StakeholderPosition]) -> RolePosition:
    mean, se = _weighted_mean(people)
    return RolePosition(
        role=role,
        side=side,
        position=mean,
        confidence=pooled_confidence(p.confidence for p in people),
        stakeholders=len(people),
        se=se,
    )


def role_positions(stakeholders: Iterable[StakeholderPosition], *, side: Side = "client") -> tuple[RolePosition, ...]:
    """Each role's position on ``side`` over its stakeholders with a position, ordered by role."""
    members: dict[str, list[StakeholderPosition]] = {}
    for person in stakeholders:
        if person.side == side and person.role != UNASSIGNED and person.position is not None:
            members.setdefault(person.role, []).append(person)
    return tuple(_role(role, side, people) for role, people in sorted(members.items()))


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
