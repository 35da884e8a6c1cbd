"""The renewal_risk rule: inside the renewal window, a split, a detractor or a silent decision-maker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from services.analyzer.model.alerts import Condition, Severity
from services.analyzer.model.rules.figures import (
    Active,
    account_figures,
    active_severity,
    days,
    evidence,
    gap_phrase,
    role_label,
    role_points,
)
from services.analyzer.model.rules.stakeholders import silent_decision_makers
from services.analyzer.model.snapshot import AccountSnapshot
from services.analyzer.model.thresholds import Thresholds, above, reaches


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


def _reasons(snapshot: AccountSnapshot, th: Thresholds, held: bool) -> tuple[list[str], dict[str, list[str]]]:
    reasons: list[str] = []
    found: dict[str, list[str]] = {"risk_reasons": []}
    # An open alert holds with the lower levels, so it does not flap at the threshold.
    split = snapshot.divergence
    if split is not None and reaches(split.gap, th.divergence_clear if held else th.divergence_warning):
        reasons.append(gap_phrase(split))
        found["risk_reasons"].append("divergence")
    line = th.detractor_line + (th.severity_margin if held else 0.0)
    detractors = [
        r
        for r in snapshot.roles
        if r.role in th.decision_roles and reaches(r.confidence, th.min_role_confidence) and not above(r.position, line)
    ]
    if detractors:
        names = ", ".join(f"{role_label(r.role)} ({r.position:+.2f})" for r in detractors)
        reasons.append(f"{names} below the detractor line")
        found["risk_reasons"].append("detractor")
        found["detractor_roles"] = [r.role for r in detractors]
    silent = silent_decision_makers(snapshot, th)
    if silent:
        names = ", ".join(f"{p.stakeholder_id} ({role_label(p.role)}, {days(s):g} days)" for p, s in silent)
        reasons.append(f"silent: {names}")
        found["risk_reasons"].append("silent_decision_maker")
        found["silent_stakeholders"] = [p.stakeholder_id for p, _ in silent]
    return reasons, found


def renewal_risk(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> list[Condition]:
    """Inside the renewal window with divergence, a decision-making role below the detractor line, or one silent."""
    window = renewal_window(snapshot, th)
    if window is None:
        return []
    reasons, found = _reasons(snapshot, th, held=active_severity(active, "renewal_risk") is not None)
    if not reasons:
        return []
    near = window.days_to_renewal is not None and window.days_to_renewal <= th.renewal_critical_within.days
    severity: Severity = "critical" if len(found["risk_reasons"]) >= 2 or near else "warning"
    when = (
        f"Renewal in {window.days_to_renewal} days" if window.days_to_renewal is not None else "Renewal is approaching"
    )
    metrics = account_figures(snapshot) | {
        "window_source": window.source,
        "days_to_renewal": window.days_to_renewal,
        "renewal_date": None if snapshot.renewal_date is None else snapshot.renewal_date.isoformat(),
        **found,
    }
    roles = {r.role for r in snapshot.roles if r.role in th.decision_roles}
    people = [p for p in snapshot.stakeholders if p.side == "client" and p.role in roles]
    return [
        Condition(
            "renewal_risk",
            None,
            severity,
            f"{when}: " + "; ".join(reasons),
            metrics,
            role_points(snapshot),
            evidence(snapshot.evidence, *(p.evidence for p in people)),
        )
    ]
