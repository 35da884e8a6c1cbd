"""Everything the alert rules look at for one account at one time, and how to assemble it.

``build_snapshot`` is the one call a caller needs after folding an event into the stakeholders'
states: it reads every state as of ``as_of``, pools roles and sides, measures divergence, dispersion
and trend, and finds position drops. Its inputs are bounded by the size of the account (people,
dimensions) and by the trailing windows, never by the length of the account's history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from services.analyzer.model.decay import DEFAULT_HALF_LIFE, DecayedState
from services.analyzer.model.divergence import Divergence, Point, baseline, dispersion, divergence, peak_within, trend
from services.analyzer.model.noise import answer_noise
from services.analyzer.model.normalise import ClassicScores
from services.analyzer.model.positions import (
    UNASSIGNED,
    RolePosition,
    Side,
    SidePosition,
    StakeholderPosition,
    account_mean,
    role_positions,
    side_position,
    stakeholder_position,
)
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, REFERENCE, Risk, RiskModel, score, shrink
from services.analyzer.model.thresholds import DEFAULT_THRESHOLDS, Thresholds, reaches


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
    # Whether they decide the renewal; None: as their role does by default (``decision_roles``).
    decision_maker: bool | None = None


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
    # The standard error of the current position (the drop carries about √2 times it).
    se: float = math.inf

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
    # The standard deviation of one answer, as measured in this account (``noise.answer_noise``).
    answer_noise: float = 0.0
    # The client roles of the people who decide the renewal, over those people only.
    decision_roles: tuple[RolePosition, ...] = ()
    # The people who decide the renewal and have no answer recent enough to count.
    unheard_decision_makers: tuple[StakeholderPosition, ...] = ()
    decision_makers: int = 0
    # The mean of the decision makers' role positions (roles heard recently enough), now and at the
    # start of the trend window.
    decision_makers_mean: float | None = None
    decision_makers_mean_before: float | None = None
    # The steepest fall of one client role over the trend window, beyond its noise (0: none fell).
    role_fall: float = 0.0
    role_fall_role: str | None = None
    risk: Risk | None = None

    @property
    def nps(self) -> float | None:
        """The classic account NPS, if any NPS answers are held."""
        return None if self.classic is None else self.classic.nps


def decides(record: StakeholderRecord, th: Thresholds) -> bool:
    """Whether a person decides the renewal: their own flag, else their role's default (client side)."""
    if record.side != "client" or record.role == UNASSIGNED:
        return False
    return record.decision_maker if record.decision_maker is not None else record.role in th.decision_roles


def _positions(
    records: Sequence[StakeholderRecord],
    states: Sequence[DecayedState],
    *,
    at: datetime,
    half_life: timedelta,
    noise: float | None = None,
    th: Thresholds = DEFAULT_THRESHOLDS,
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
            noise=noise,
            decision_maker=decides(r, th),
        )
        for r, state in zip(records, states, strict=True)
    )


def _dimensions(
    records: Sequence[StakeholderRecord], *, at: datetime, half_life: timedelta, noise: float
) -> tuple[DimensionPositions, ...]:
    rows = []
    # A dimension whose answers all moved elsewhere leaves an empty state behind: skip it.
    for name in sorted({d for r in records for d, state in r.dimensions.items() if state.n}):
        holders = [r for r in records if name in r.dimensions and r.dimensions[name].n]
        people = _positions(holders, [r.dimensions[name] for r in holders], at=at, half_life=half_life, noise=noise)
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
                    se=person.se,
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
    decider_series: Sequence[Point] = (),
    role_series: Mapping[str, Sequence[Point]] | None = None,
    renewal_date: date | None = None,
    renewal_moment_at: datetime | None = None,
    renewal_outcome_at: datetime | None = None,
    classic: ClassicScores | None = None,
    evidence: Sequence[str] = (),
    risk_model: RiskModel = DEFAULT_RISK_MODEL,
) -> AccountSnapshot:
    """Read every stakeholder as of ``as_of`` and compute the account's figures for the rules."""
    noise = answer_noise(
        (r.state for r in stakeholders if r.side == "client" and r.role != UNASSIGNED),
        default=thresholds.answer_noise,
        prior_answers=thresholds.noise_prior_answers,
    )
    people = _positions(
        stakeholders, [r.state for r in stakeholders], at=as_of, half_life=half_life, noise=noise, th=thresholds
    )
    roles = role_positions(people, side="client")
    supplier_roles = role_positions(people, side="supplier")
    split = divergence(roles, min_confidence=thresholds.min_role_confidence, z=thresholds.divergence_z)
    mean_before = baseline(mean_series, now=as_of, window=thresholds.trend_window)
    deciders = [p for p in people if p.decision_maker]
    decision_roles = role_positions(deciders, side="client")
    heard = [r.position for r in decision_roles if reaches(r.confidence, thresholds.min_role_confidence)]
    deciders_before = baseline(decider_series, now=as_of, window=thresholds.trend_window)
    fall = _steepest_fall(roles, role_series or {}, as_of=as_of, th=thresholds)
    snapshot = AccountSnapshot(
        account_id=account_id,
        as_of=as_of,
        stakeholders=people,
        roles=roles,
        supplier_roles=supplier_roles,
        account_mean=account_mean(roles),
        account_mean_before=None if mean_before is None else mean_before[1],
        client_side=side_position(roles),
        supplier_side=side_position(supplier_roles),
        dimensions=_dimensions(stakeholders, at=as_of, half_life=half_life, noise=noise),
        divergence=split,
        dispersion=dispersion(people),
        trend=None if split is None else trend(split.gap, divergence_series, now=as_of, window=thresholds.trend_window),
        renewal_date=renewal_date,
        renewal_moment_at=renewal_moment_at,
        renewal_outcome_at=renewal_outcome_at,
        classic=classic,
        drops=_drops(stakeholders, people, at=as_of, window=thresholds.drop_window),
        evidence=tuple(evidence),
        answer_noise=noise,
        decision_roles=decision_roles,
        decision_makers_mean=math.fsum(heard) / len(heard) if heard else None,
        decision_makers_mean_before=None if deciders_before is None else deciders_before[1],
        role_fall=0.0 if fall is None else fall[0],
        role_fall_role=None if fall is None else fall[1],
        unheard_decision_makers=tuple(
            p for p in deciders if p.position is None or not reaches(p.confidence, thresholds.min_role_confidence)
        ),
        decision_makers=len(deciders),
    )
    return replace(snapshot, risk=assess_risk(snapshot, thresholds, risk_model))


@dataclass(frozen=True, slots=True)
class RenewalWindow:
    """Why the account is inside its renewal window, and how many days remain if a date is known."""

    source: str  # "renewal_date" or "renewal_approach"
    days_to_renewal: int | None


def renewal_window(snapshot: AccountSnapshot, th: Thresholds) -> RenewalWindow | None:
    """The renewal window the account is in, if any; a ``renewal_outcome`` after it closes it."""
    outcome = snapshot.renewal_outcome_at
    if snapshot.renewal_date is not None:
        # Calendar days in UTC, so every machine reads the same date.
        left = (snapshot.renewal_date - snapshot.as_of.astimezone(UTC).date()).days
        opens = datetime.combine(snapshot.renewal_date, time(), UTC) - th.renewal_window
        # An outcome recorded within this window means this renewal is decided.
        decided = outcome is not None and outcome >= opens
        if 0 <= left <= th.renewal_window.days and not decided:
            return RenewalWindow("renewal_date", left)
    moment = snapshot.renewal_moment_at
    if moment is None or not timedelta(0) <= snapshot.as_of - moment <= th.renewal_window:
        return None
    # A renewal_outcome after the approach closes the window it opened.
    return RenewalWindow("renewal_approach", None) if outcome is None or outcome < moment else None


def _blind_spot(snapshot: AccountSnapshot, th: Thresholds) -> float:
    """How far the supplier rates itself above the client where the client does not rate it a strength."""
    rows = [(snapshot.client_side, snapshot.supplier_side)] + [(d.client, d.supplier) for d in snapshot.dimensions]
    worst = 0.0
    for client, supplier in rows:
        if client is None or supplier is None:
            continue
        if not reaches(min(client.confidence, supplier.confidence), th.min_role_confidence):
            continue
        if client.position <= th.strength_line < supplier.position:
            worst = max(worst, supplier.position - client.position)
    return worst


def _steepest_fall(
    roles: Sequence[RolePosition], series: Mapping[str, Sequence[Point]], *, as_of: datetime, th: Thresholds
) -> tuple[float, str] | None:
    """The role whose position fell most over the trend window, by how much beyond its noise."""
    steepest: tuple[float, str] | None = None
    for role in roles:
        if not reaches(role.confidence, th.min_role_confidence) or not math.isfinite(role.se):
            continue
        before = baseline(series.get(role.role, ()), now=as_of, window=th.trend_window)
        if before is None:
            continue
        fall = before[1] - role.position - th.divergence_z * math.sqrt(2.0) * role.se
        if fall > 0.0 and (steepest is None or (fall, role.role) > steepest):
            steepest = (fall, role.role)
    return steepest


def _lowest(roles: Sequence[RolePosition], model: RiskModel) -> tuple[float, str] | None:
    """The lowest of the roles' positions, each shrunk toward the prior by its standard error."""
    lowest: tuple[float, str] | None = None
    for role in roles:
        if not math.isfinite(role.se):
            continue
        value = shrink(role.position, role.se, prior=model.prior_position, prior_sd=model.prior_sd)
        if lowest is None or (value, role.role) < lowest:
            lowest = (value, role.role)
    return lowest


def assess_risk(snapshot: AccountSnapshot, th: Thresholds, model: RiskModel) -> Risk:
    """The account's renewal risk from its figures (``risk.FACTORS``)."""
    lowest = _lowest(snapshot.decision_roles, model)
    lowest_any = _lowest(snapshot.roles, model)
    unheard = len(snapshot.unheard_decision_makers) / snapshot.decision_makers if snapshot.decision_makers else 1.0
    split, growth = snapshot.divergence, snapshot.trend
    mean, before = snapshot.decision_makers_mean, snapshot.decision_makers_mean_before
    # Every role of the people who decide, heard or not: an unheard one reads as the prior, below a
    # healthy account's, so silence from those who decide raises the risk instead of leaving a blank.
    heard = {r.role: r for r in snapshot.decision_roles}
    deciding = sorted({p.role for p in snapshot.stakeholders if p.decision_maker})
    shrunk = [
        shrink(heard[role].position, heard[role].se, prior=model.prior_position, prior_sd=model.prior_sd)
        if role in heard
        else model.prior_position
        for role in deciding
    ]
    values = {
        "lowest_decision_maker": model.prior_position if lowest is None else lowest[0],
        "decision_makers_mean": math.fsum(shrunk) / len(shrunk) if shrunk else model.prior_position,
        "decision_makers_fall": max(0.0, before - mean) if mean is not None and before is not None else 0.0,
        "lowest_role": model.prior_position if lowest_any is None else lowest_any[0],
        "role_fall": snapshot.role_fall,
        "unheard_decision_makers": unheard,
        "unheard_near_renewal": unheard if renewal_window(snapshot, th) is not None else 0.0,
        "divergence": max(0.0, split.lower) if split is not None else 0.0,
        "widening": max(0.0, growth) if growth is not None else 0.0,
        "blind_spot": _blind_spot(snapshot, th),
        # No NPS answer held: the classic score says nothing, so it reads as the healthy reference.
        "nps": REFERENCE["nps"] if snapshot.nps is None else snapshot.nps / 100.0,
    }
    return score(values, model, lowest_role=None if lowest is None else lowest[1])
