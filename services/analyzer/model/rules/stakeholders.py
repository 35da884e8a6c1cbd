"""Rules on one client stakeholder: a decision-maker gone silent, a position that fell sharply."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from services.analyzer.model.alerts import Condition, PositionPoint, Severity
from services.analyzer.model.positions import StakeholderPosition
from services.analyzer.model.rules.figures import (
    Active,
    account_figures,
    active_severity,
    days,
    evidence,
    role_label,
    rounded,
)
from services.analyzer.model.snapshot import AccountSnapshot, PositionChange
from services.analyzer.model.thresholds import Thresholds, beyond_noise, grade


def silent_for(person: StakeholderPosition, at: datetime) -> timedelta | None:
    """How long since the person last answered (or, never having answered, joined the directory)."""
    since = person.last_response_at if person.last_response_at is not None else person.known_since
    return None if since is None else at - since


def silent_decision_makers(snapshot: AccountSnapshot, th: Thresholds) -> list[tuple[StakeholderPosition, timedelta]]:
    """Client stakeholders who decide the renewal, silent for longer than ``silent_after``, by id."""
    found = []
    for person in snapshot.stakeholders:
        if not person.decision_maker:
            continue
        silent = silent_for(person, snapshot.as_of)
        if silent is not None and silent > th.silent_after:
            found.append((person, silent))
    return sorted(found, key=lambda item: item[0].stakeholder_id)


def _silent_condition(
    snapshot: AccountSnapshot, th: Thresholds, person: StakeholderPosition, silent: timedelta
) -> Condition:
    severity: Severity = "critical" if silent >= th.silent_critical_after else "warning"
    what = "has not answered" if person.last_response_at is not None else "has not answered since joining"
    summary = f"{person.stakeholder_id} ({role_label(person.role)}) {what} for {days(silent):g} days"
    last = person.last_response_at
    metrics = account_figures(snapshot) | {
        "stakeholder_id": person.stakeholder_id,
        "role": person.role,
        "silent_days": days(silent),
        "last_response_at": None if last is None else last.isoformat(),
    }
    points: tuple[PositionPoint, ...] = ()
    if person.position is not None:
        points = (
            PositionPoint(person.role, round(person.position, 4), round(person.confidence, 4), person.stakeholder_id),
        )
    return Condition(
        "silent_stakeholder",
        person.stakeholder_id,
        severity,
        summary,
        metrics,
        points,
        evidence(person.evidence, snapshot.evidence),
    )


def silent_stakeholder(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> list[Condition]:
    """A client stakeholder in a decision-making role has not answered for longer than the set time."""
    # No hysteresis needed: silence only ends with an answer, which resets it to zero.
    return [_silent_condition(snapshot, th, person, silent) for person, silent in silent_decision_makers(snapshot, th)]


def _drop_condition(snapshot: AccountSnapshot, th: Thresholds, change: PositionChange, severity: Severity) -> Condition:
    window = days(th.drop_window)
    summary = (
        f"{change.stakeholder_id} ({role_label(change.role)}) fell from {change.peak:+.2f} to "
        f"{change.current:+.2f} ({-change.drop:+.2f}) within {window:g} days"
    )
    metrics = account_figures(snapshot) | {
        "stakeholder_id": change.stakeholder_id,
        "role": change.role,
        "drop": rounded(change.drop),
        "peak": rounded(change.peak),
        "peak_at": change.peak_at.isoformat(),
        "current": rounded(change.current),
        "drop_se": rounded(change.se) if math.isfinite(change.se) else None,
        "window_days": window,
    }
    point = PositionPoint(change.role, round(change.current, 4), round(change.confidence, 4), change.stakeholder_id)
    return Condition(
        "position_drop",
        change.stakeholder_id,
        severity,
        summary,
        metrics,
        (point,),
        evidence(change.evidence, snapshot.evidence),
    )


def position_drop(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> list[Condition]:
    """One client stakeholder's position fell by at least the set amount, beyond its noise, within the window."""
    conditions = []
    for change in sorted(snapshot.drops, key=lambda c: c.stakeholder_id):
        severity = grade(
            beyond_noise(change.drop, change.se, th),
            warning=th.drop_warning,
            critical=th.drop_critical,
            clear=th.drop_clear,
            margin=th.severity_margin,
            current=active_severity(active, "position_drop", change.stakeholder_id),
        )
        if severity is not None:
            conditions.append(_drop_condition(snapshot, th, change, severity))
    return conditions
