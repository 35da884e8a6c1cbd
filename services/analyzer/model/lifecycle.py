"""The alert state machine: from the active alerts and the conditions now, the transitions to make.

One alert per (account, type, key). The rules already apply hysteresis, so here a condition present
means "holds" and absent means "cleared":

- condition, no active alert            → ``open`` (status open)
- condition, active, other severity     → ``update``; an escalation re-opens an acknowledged alert
  (someone accepted a warning, not a critical), a de-escalation keeps its status
- condition, active, same severity      → ``unchanged`` (not delivered; the caller may refresh figures)
- no condition, active open/acknowledged → ``resolve``
- active but resolved by hand (muted)   → ``unchanged`` while the condition holds, so a person's
  resolve is not undone by the next event; ``release`` (forget it, nothing delivered) once it clears

Severity moves both ways: the alert should say how bad things are now, and the rules' hysteresis
margin keeps it from flapping. Alert ids are derived, never random (``alert_id``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from services.analyzer.model.alerts import (
    ALERT_TYPES,
    SEVERITY_RANK,
    ActiveAlert,
    AlertStatus,
    AlertType,
    Condition,
    Severity,
)

TransitionKind = Literal["open", "update", "resolve", "unchanged", "release"]
DELIVERED: frozenset[TransitionKind] = frozenset({"open", "update", "resolve"})


@dataclass(frozen=True, slots=True)
class Transition:
    """What to do with one alert: its id, the change, and the condition behind it (None once cleared)."""

    kind: TransitionKind
    alert_id: str
    type: AlertType
    key: str | None
    severity: Severity
    status: AlertStatus
    condition: Condition | None
    previous_severity: Severity | None = None

    @property
    def identity(self) -> tuple[AlertType, str | None]:
        """One alert per (type, key) and account."""
        return (self.type, self.key)

    @property
    def delivered(self) -> bool:
        """Whether subscribers hear of it (alert.opened / alert.updated / alert.resolved)."""
        return self.kind in DELIVERED


def alert_id(account_id: str, type_: AlertType, key: str | None, trigger: str) -> str:
    """A stable id from the account, alert type, key and what opened it (an event id).

    The same events processed again give the same id, so a replay can never add a second alert; the
    caller's unique index on the id is the last guard.
    """
    material = "\x1f".join((account_id, type_, key or "", trigger))
    return "alr_" + hashlib.sha256(material.encode()).hexdigest()[:32]


def _order(type_: AlertType, key: str | None) -> tuple[int, str]:
    return (ALERT_TYPES.index(type_), key or "")


def _held(alert: ActiveAlert, condition: Condition) -> Transition:
    if alert.status == AlertStatus.RESOLVED or condition.severity == alert.severity:
        return Transition("unchanged", alert.alert_id, alert.type, alert.key, alert.severity, alert.status, condition)
    escalated = SEVERITY_RANK[condition.severity] > SEVERITY_RANK[alert.severity]
    status = AlertStatus.OPEN if escalated else alert.status
    return Transition(
        "update", alert.alert_id, alert.type, alert.key, condition.severity, status, condition, alert.severity
    )


def _cleared(alert: ActiveAlert) -> Transition:
    kind: TransitionKind = "release" if alert.status == AlertStatus.RESOLVED else "resolve"
    return Transition(
        kind, alert.alert_id, alert.type, alert.key, alert.severity, AlertStatus.RESOLVED, None, alert.severity
    )


def transitions(
    *,
    account_id: str,
    active: Sequence[ActiveAlert],
    conditions: Sequence[Condition],
    trigger: str,
    scope: Collection[AlertType] | None = None,
) -> list[Transition]:
    """The transitions that bring the account's alerts in line with ``conditions``, in a stable order.

    ``trigger`` names what caused this evaluation (the event id; for a wall-clock sweep something
    like ``sweep:<as_of>``) and seeds the id of any alert it opens. ``scope`` limits which active
    alerts may resolve: pass the types that were evaluated.
    """
    found = {c.identity: c for c in conditions}
    if len(found) != len(conditions):
        raise ValueError("two conditions share a type and key")
    held = {a.identity: a for a in active}
    if len(held) != len(active):
        raise ValueError("two active alerts share a type and key")
    result: list[Transition] = []
    for identity, condition in found.items():
        alert = held.get(identity)
        if alert is None:
            new_id = alert_id(account_id, condition.type, condition.key, trigger)
            opened = AlertStatus.OPEN
            result.append(
                Transition("open", new_id, condition.type, condition.key, condition.severity, opened, condition)
            )
        else:
            result.append(_held(alert, condition))
    result.extend(
        _cleared(alert)
        for identity, alert in held.items()
        if identity not in found and (scope is None or alert.type in scope)
    )
    return sorted(result, key=lambda t: _order(t.type, t.key))
