"""What every alert shows: role labels, the account's figures, position points and evidence."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Final, get_args

from services.analyzer.model.alerts import ActiveAlert, AlertType, Metrics, PositionPoint, Severity
from services.analyzer.model.divergence import Divergence
from services.analyzer.model.positions import RolePosition
from services.analyzer.model.snapshot import AccountSnapshot
from shared.events import Role

Active = Mapping[tuple[AlertType, str | None], ActiveAlert]

MAX_EVIDENCE: Final = 20
# The roles whose label is not their name with spaces, capitalised.
_SPELLED: Final[dict[Role, str]] = {"it": "IT", "end_user": "End users"}
ROLE_LABELS: Final[dict[str, str]] = {
    role: _SPELLED.get(role, role.replace("_", " ").capitalize()) for role in get_args(Role)
}


def role_label(role: str) -> str:
    """How a role reads in a summary: ``it`` → ``IT``, ``end_user`` → ``End users``."""
    return ROLE_LABELS.get(role, role.replace("_", " ").capitalize())


def rounded(value: float | None) -> float | None:
    """A figure as an alert carries it: four decimals, enough to read and stable against float noise."""
    return None if value is None else round(value, 4)


def days(span: timedelta) -> float:
    """A duration in days, to one decimal."""
    return round(span / timedelta(days=1), 1)


def evidence(*groups: Iterable[str]) -> tuple[str, ...]:
    """Event ids from several sources, first occurrence first, without repeats, at most 20."""
    seen: dict[str, None] = {}
    for group in groups:
        for event_id in group:
            seen.setdefault(event_id, None)
    return tuple(seen)[:MAX_EVIDENCE]


def active_severity(active: Active, type_: AlertType, key: str | None = None) -> Severity | None:
    """The severity of the active alert of this type and key, None when there is none."""
    alert = active.get((type_, key))
    return None if alert is None else alert.severity


def role_point(role: RolePosition) -> PositionPoint:
    """A role as an alert's ``positions`` entry."""
    return PositionPoint(role.role, round(role.position, 4), round(role.confidence, 4), side=role.side)


def role_points(snapshot: AccountSnapshot) -> tuple[PositionPoint, ...]:
    """Every client role of the account as ``positions`` entries."""
    return tuple(role_point(r) for r in snapshot.roles)


def role_evidence(snapshot: AccountSnapshot, *roles: str) -> tuple[str, ...]:
    """The latest answers of the client stakeholders in ``roles`` (in that order), then the account's events."""
    people = [p for role in roles for p in snapshot.stakeholders if p.side == "client" and p.role == role]
    return evidence(*(p.evidence for p in people), snapshot.evidence)


def account_figures(snapshot: AccountSnapshot) -> Metrics:
    """The account figures every alert carries in ``metrics``."""
    split = snapshot.divergence
    interval = split is not None and math.isfinite(split.se)
    risk = snapshot.risk
    return {
        "divergence": None if split is None else rounded(split.gap),
        "divergence_se": rounded(split.se) if split is not None and interval else None,
        "divergence_lower": rounded(split.lower) if split is not None and interval else None,
        "high_role": None if split is None else split.high.role,
        "low_role": None if split is None else split.low.role,
        "account_mean": rounded(snapshot.account_mean),
        "nps": rounded(snapshot.nps),
        "dispersion": rounded(snapshot.dispersion),
        "trend": rounded(snapshot.trend),
        "answer_noise": rounded(snapshot.answer_noise),
        "risk": None if risk is None else rounded(risk.probability),
    }


def gap_phrase(split: Divergence) -> str:
    """E.g. "Procurement (+0.80) and IT (-0.20) are 1.00 (±0.15) apart"."""
    high, low = split.high, split.low
    noise = f" (±{split.se:.2f})" if 0.0 < split.se < math.inf else ""
    return (
        f"{role_label(high.role)} ({high.position:+.2f}) and {role_label(low.role)} ({low.position:+.2f}) "
        f"are {split.gap:.2f}{noise} apart"
    )


def mean_phrase(snapshot: AccountSnapshot) -> str:
    """E.g. "the account average reads +0.35 (NPS +25)"."""
    mean = "n/a" if snapshot.account_mean is None else f"{snapshot.account_mean:+.2f}"
    nps = "" if snapshot.nps is None else f" (NPS {snapshot.nps:+.0f})"
    return f"the account average reads {mean}{nps}"
