"""Everything the alert rules look at for one account at one time, and how to assemble it.

``build_snapshot`` is the one call a caller needs after folding an event into the stakeholders'
states: it reads every state as of ``as_of``, pools roles and sides, measures divergence, dispersion
and trend, and finds position drops. Its inputs are bounded by the size of the account (people,
dimensions) and by the trailing windows, never by the length of the account's history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.analyzer.model.decay import DEFAULT_HALF_LIFE, DecayedState
from services.analyzer.model.divergence import Divergence, Point, baseline, dispersion, divergence, peak_within, trend
from services.analyzer.model.normalise import ClassicScores
from services.analyzer.model.positions import (
    RolePosition,
    Side,
    SidePosition,
    StakeholderPosition,
    account_mean,
    role_positions,
    side_position,
    stakeholder_position,
)
from services.analyzer.model.thresholds import DEFAULT_THRESHOLDS, Thresholds


@dataclass(frozen=True, slots=True)
class StakeholderRecord:
    """What the caller holds for one person: directory facts, decayed states, recent evidence."""

    stakeholder_id: str
    role: str
    side: Side
    influence: float
    state: DecayedState
    dimensions: Mapping[str, DecayedState] = field(default_factory=dict)
    known_since: datetime | None = None
    # Event ids of the person's latest answers (a handful is enough), shown as an alert's evidence.
    evidence: tuple[str, ...] = ()
    # The person's position after each change, at least over the drop window and the point before it.
    history: tuple[Point, ...] = ()


@dataclass(frozen=True, slots=True)
class DimensionPositions:
    """Client and supplier side positions on one dimension (value, ease, support, ...)."""

    dimension: str
    client: SidePosition | None
    supplier: SidePosition | None


@dataclass(frozen=True, slots=True)
class PositionChange:
    """A client stakeholder's highest position within the drop window against their current one."""

    stakeholder_id: str
    role: str
    peak: float
    peak_at: datetime
    current: float
    confidence: float
    evidence: tuple[str, ...] = ()

    @property
    def drop(self) -> float:
        """How far the position fell from the peak (positive = fell)."""
        return self.peak - self.current


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """One account's figures as of ``as_of``: the input of every alert rule."""

    account_id: str
    as_of: datetime
    stakeholders: tuple[StakeholderPosition, ...] = ()
    roles: tuple[RolePosition, ...] = ()
    supplier_roles: tuple[RolePosition, ...] = ()
    account_mean: float | None = None
    account_mean_before: float | None = None
    client_side: SidePosition | None = None
    supplier_side: SidePosition | None = None
    dimensions: tuple[DimensionPositions, ...] = ()
    divergence: Divergence | None = None
    dispersion: float | None = None
    trend: float | None = None
    renewal_date: date | None = None
    renewal_moment_at: datetime | None = None
    renewal_outcome_at: datetime | None = None
    classic: ClassicScores | None = None
    drops: tuple[PositionChange, ...] = ()
    # Account-level events worth showing with any alert (the triggering event, a renewal moment).
    evidence: tuple[str, ...] = ()

    @property
    def nps(self) -> float | None:
        """The classic account NPS, if any NPS answers are held."""
        return None if self.classic is None else self.classic.nps


def _positions(
    records: Sequence[StakeholderRecord],
    states: Sequence[DecayedState],
    *,
    at: datetime,
    half_life: timedelta,
) -> tuple[StakeholderPosition, ...]:
    return tuple(
        stakeholder_position(
            r.stakeholder_id,
            state,
            role=r.role,
            side=r.side,
            influence=r.influence,
            at=at,
            half_life=half_life,
            known_since=r.known_since,
            evidence=r.evidence,
        )
        for r, state in zip(records, states, strict=True)
    )


def _dimensions(
    records: Sequence[StakeholderRecord], *, at: datetime, half_life: timedelta
) -> tuple[DimensionPositions, ...]:
    rows = []
    # A dimension whose answers all moved elsewhere leaves an empty state behind: skip it.
    for name in sorted({d for r in records for d, state in r.dimensions.items() if state.n}):
        holders = [r for r in records if name in r.dimensions and r.dimensions[name].n]
        people = _positions(holders, [r.dimensions[name] for r in holders], at=at, half_life=half_life)
        rows.append(
            DimensionPositions(
                dimension=name,
                client=side_position(role_positions(people, side="client")),
                supplier=side_position(role_positions(people, side="supplier")),
            )
        )
    return tuple(rows)


def _drops(
    records: Sequence[StakeholderRecord], people: Sequence[StakeholderPosition], *, at: datetime, window: timedelta
) -> tuple[PositionChange, ...]:
    changes = []
    for record, person in zip(records, people, strict=True):
        if person.side != "client" or person.position is None or not record.history:
            continue
        peak = peak_within(record.history, now=at, window=window)
        if peak is not None and peak[1] > person.position:
            changes.append(
                PositionChange(
                    stakeholder_id=person.stakeholder_id,
                    role=person.role,
                    peak=peak[1],
                    peak_at=peak[0],
                    current=person.position,
                    confidence=person.confidence,
                    evidence=person.evidence,
                )
            )
    return tuple(changes)


def build_snapshot(
    *,
    account_id: str,
    as_of: datetime,
    stakeholders: Sequence[StakeholderRecord],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    half_life: timedelta = DEFAULT_HALF_LIFE,
    divergence_series: Sequence[Point] = (),
    mean_series: Sequence[Point] = (),
    renewal_date: date | None = None,
    renewal_moment_at: datetime | None = None,
    renewal_outcome_at: datetime | None = None,
    classic: ClassicScores | None = None,
    evidence: Sequence[str] = (),
) -> AccountSnapshot:
    """Read every stakeholder as of ``as_of`` and compute the account's figures for the rules."""
    people = _positions(stakeholders, [r.state for r in stakeholders], at=as_of, half_life=half_life)
    roles = role_positions(people, side="client")
    supplier_roles = role_positions(people, side="supplier")
    split = divergence(roles, min_confidence=thresholds.min_role_confidence)
    mean_before = baseline(mean_series, now=as_of, window=thresholds.trend_window)
    return AccountSnapshot(
        account_id=account_id,
        as_of=as_of,
        stakeholders=people,
        roles=roles,
        supplier_roles=supplier_roles,
        account_mean=account_mean(roles),
        account_mean_before=None if mean_before is None else mean_before[1],
        client_side=side_position(roles),
        supplier_side=side_position(supplier_roles),
        dimensions=_dimensions(stakeholders, at=as_of, half_life=half_life),
        divergence=split,
        dispersion=dispersion(people),
        trend=None if split is None else trend(split.gap, divergence_series, now=as_of, window=thresholds.trend_window),
        renewal_date=renewal_date,
        renewal_moment_at=renewal_moment_at,
        renewal_outcome_at=renewal_outcome_at,
        classic=classic,
        drops=_drops(stakeholders, people, at=as_of, window=thresholds.drop_window),
        evidence=tuple(evidence),
    )
