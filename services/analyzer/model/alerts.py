"""The vocabulary of alerts: types, severities, a found condition and an alert already active."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, get_args

from shared.vocabulary import Vocabulary

AlertType = Literal[
    "stakeholder_divergence",
    "divergence_widening",
    "masked_by_average",
    "renewal_risk",
    "perception_gap",
    "silent_stakeholder",
    "position_drop",
    "alignment_restored",
]
# The order rules are evaluated and alerts listed in.
ALERT_TYPES: Final[tuple[AlertType, ...]] = get_args(AlertType)

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: Final[dict[Severity, int]] = {"info": 0, "warning": 1, "critical": 2}


class AlertStatus(Vocabulary):
    """Where an alert stands with people; the values are the ``status`` strings of the public record.

    ``RESOLVED`` in an ActiveAlert means resolved by a person while its condition still held: the
    alert stays muted (no second alert) until the condition clears on its own.
    """

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# An alert still waiting for its condition to clear.
OPEN_STATUSES: Final = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)

Metrics = dict[str, object]


@dataclass(frozen=True, slots=True)
class PositionPoint:
    """One role's (or person's) position as an alert shows it."""

    role: str
    position: float
    confidence: float
    stakeholder_id: str | None = None
    side: str = "client"

    def as_dict(self) -> dict[str, object]:
        """The ``positions`` entry of the alert record (docs/api.md; ``side`` only when supplier)."""
        entry: dict[str, object] = {"role": self.role, "position": self.position, "confidence": self.confidence}
        if self.stakeholder_id is not None:
            entry["stakeholder_id"] = self.stakeholder_id
        if self.side != "client":
            entry["side"] = self.side
        return entry


@dataclass(frozen=True, slots=True)
class Condition:
    """A rule's finding on one account: what holds, how bad, why, and the events behind it."""

    type: AlertType
    key: str | None
    severity: Severity
    summary: str
    metrics: Metrics = field(default_factory=dict)
    positions: tuple[PositionPoint, ...] = ()
    evidence: tuple[str, ...] = ()

    @property
    def identity(self) -> tuple[AlertType, str | None]:
        """One alert per (type, key) and account."""
        return (self.type, self.key)

    def as_dict(self) -> dict[str, object]:
        """The condition's part of the alert record of docs/api.md (JSON-ready)."""
        return {
            "type": self.type,
            "severity": self.severity,
            "summary": self.summary,
            "metrics": dict(self.metrics),
            "positions": [p.as_dict() for p in self.positions],
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """An alert of the account that has not been closed by its condition clearing yet."""

    alert_id: str
    type: AlertType
    key: str | None
    severity: Severity
    status: AlertStatus
    opened_as_of: datetime

    @property
    def identity(self) -> tuple[AlertType, str | None]:
        """One alert per (type, key) and account."""
        return (self.type, self.key)
