"""One account's ``AccountFacts`` from what the model holds for it (pure).

The current figures come from the account's snapshot, as ``GET /v1/accounts/{id}`` shows them; the
dimension gaps pool each dimension's decayed states per role the way the overall position is pooled
(``positions.role_positions``); the quarters come from ``model.history``, recomputed from the answers held.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from services.analyzer.model.decay import DecayedState
from services.analyzer.model.divergence import divergence
from services.analyzer.model.history import HistoryPoint
from services.analyzer.model.positions import OVERALL_DIMENSION, UNASSIGNED, role_positions, stakeholder_position
from services.analyzer.model.snapshot import AccountSnapshot, StakeholderRecord
from services.analyzer.model.thresholds import Thresholds
from services.analyzer.portfolio.figures import AccountFacts, QuarterFacts, RoleFigure, ThemeMention
from services.analyzer.portfolio.quarters import Quarter, as_of
from services.analyzer.verbatims.summary import RoleVerbatims


def _se(value: float) -> float | None:
    return value if math.isfinite(value) else None


def dimension_gaps(
    snap: AccountSnapshot,
    records: Sequence[StakeholderRecord],
    *,
    high_role: str,
    low_role: str,
    half_life: timedelta,
) -> dict[str, float]:
    """Per dimension where both roles have a position: the high role's minus the low role's."""
    by_dimension: dict[str, list[tuple[StakeholderRecord, DecayedState]]] = {}
    for record in records:
        if record.side != "client" or record.role not in (high_role, low_role):
            continue
        for dimension, state in record.dimensions.items():
            if dimension == OVERALL_DIMENSION:
                continue  # the answers naming no dimension: the widest gap itself, not a driver of it
            by_dimension.setdefault(dimension, []).append((record, state))
    gaps = {}
    for dimension, members in sorted(by_dimension.items()):
        people = [
            stakeholder_position(
                record.stakeholder_id,
                state,
                role=record.role,
                side=record.side,
                influence=record.influence,
                at=snap.as_of,
                half_life=half_life,
            )
            for record, state in members
        ]
        roles = {r.role: r.position for r in role_positions(people)}
        if high_role in roles and low_role in roles:
            gaps[dimension] = roles[high_role] - roles[low_role]
    return gaps


def quarter_facts(
    points: Sequence[HistoryPoint], quarters: Sequence[Quarter], latest: datetime, thresholds: Thresholds
) -> tuple[QuarterFacts, ...]:
    """The account as of each quarter's end: the last history point at or before it (none before its answers)."""
    found = []
    for quarter in quarters:
        until = as_of(quarter, latest)
        held = [p for p in points if p.as_of <= until]
        if not held:
            continue
        point = held[-1]
        client = [r for r in point.roles if r.side == "client" and r.role != UNASSIGNED]
        if not client:
            continue
        split = divergence(client, min_confidence=thresholds.min_role_confidence)
        found.append(
            QuarterFacts(
                quarter=quarter.label,
                roles={r.role: r.position for r in client},
                gap=split.gap if split else None,
                low_role=split.low.role if split else None,
            )
        )
    return tuple(found)


def account_facts(
    *,
    account_id: str,
    segment: str | None,
    annual_value: float | None,
    snap: AccountSnapshot,
    records: Sequence[StakeholderRecord],
    verbatims: Sequence[RoleVerbatims],
    quarters: tuple[QuarterFacts, ...],
    half_life: timedelta,
) -> AccountFacts:
    """What the portfolio reads of one account; its low role's themes from its client comments."""
    split = snap.divergence
    low_themes: tuple[ThemeMention, ...] = ()
    gaps: dict[str, float] = {}
    if split is not None:
        low = next((v for v in verbatims if v.side == "client" and v.role == split.low.role), None)
        if low is not None:
            low_themes = tuple(ThemeMention(t.theme, t.count, t.polarity) for t in low.themes)
        gaps = dimension_gaps(snap, records, high_role=split.high.role, low_role=split.low.role, half_life=half_life)
    risk = snap.risk
    probability = risk.probability if risk is not None and math.isfinite(risk.probability) else None
    return AccountFacts(
        account_id=account_id,
        segment=segment,
        annual_value=annual_value,
        roles=tuple(RoleFigure(r.role, r.position, _se(r.se)) for r in snap.roles if r.side == "client"),
        gap=split.gap if split else None,
        high_role=split.high.role if split else None,
        low_role=split.low.role if split else None,
        dimension_gaps=gaps,
        low_themes=low_themes,
        risk=probability,
        risk_role=risk.lowest_role if risk is not None else None,
        quarters=quarters,
    )
