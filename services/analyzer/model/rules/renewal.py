"""The renewal_risk rule: the account's renewal-risk probability crosses its threshold."""

from __future__ import annotations

from services.analyzer.model.alerts import Condition
from services.analyzer.model.risk import Factor, Risk
from services.analyzer.model.rules.figures import (
    Active,
    account_figures,
    active_severity,
    evidence,
    role_label,
    role_points,
    rounded,
)
from services.analyzer.model.snapshot import AccountSnapshot, RenewalWindow, renewal_window
from services.analyzer.model.thresholds import Thresholds, grade


def factor_phrase(factor: Factor, snapshot: AccountSnapshot, risk: Risk) -> str:
    """One reason as a person reads it, e.g. "lowest decision maker Finance at -0.35"."""
    name, value = factor.name, factor.value
    if name == "lowest_decision_maker":
        who = role_label(risk.lowest_role) if risk.lowest_role else "no decision maker heard"
        return f"lowest decision maker {who} at {value:+.2f}"
    if name in ("unheard_decision_makers", "unheard_near_renewal"):
        silent = ", ".join(p.stakeholder_id for p in snapshot.unheard_decision_makers) or "none named"
        where = " near the renewal" if name == "unheard_near_renewal" else ""
        return f"{value:.0%} of decision makers unheard{where} ({silent})"
    if name == "decision_makers_mean":
        return f"decision makers at {value:+.2f} on average"
    if name == "decision_makers_fall":
        return f"decision makers fell by {value:.2f}"
    if name == "lowest_role":
        return f"lowest role at {value:+.2f}"
    if name == "role_fall":
        return f"a role fell by {value:.2f} beyond the noise"
    if name == "divergence":
        return f"roles {value:.2f} apart beyond the noise"
    if name == "widening":
        return f"divergence grew by {value:.2f}"
    if name == "blind_spot":
        return f"supplier rates itself {value:.2f} above the client"
    if name == "nps":
        return f"NPS {value * 100:+.0f}"
    return f"{name.replace('_', ' ')} {value:+.2f}"


def _when(window: RenewalWindow | None) -> str:
    if window is None:
        return "Renewal risk"
    if window.days_to_renewal is not None:
        return f"Renewal in {window.days_to_renewal} days, risk"
    return "Renewal approaching, risk"


def renewal_risk(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> list[Condition]:
    """The probability that the next renewal goes badly reaches ``risk_warning`` (holds to ``risk_clear``)."""
    risk = snapshot.risk
    if risk is None:
        return []
    severity = grade(
        risk.probability,
        warning=th.risk_warning,
        critical=th.risk_critical,
        clear=th.risk_clear,
        margin=th.severity_margin,
        current=active_severity(active, "renewal_risk"),
    )
    if severity is None:
        return []
    window = renewal_window(snapshot, th)
    reasons = risk.reasons()
    summary = f"{_when(window)} {risk.probability:.0%}"
    if reasons:
        summary += ": " + "; ".join(factor_phrase(f, snapshot, risk) for f in reasons)
    metrics = account_figures(snapshot) | {
        "risk_model": risk.model_version,
        "risk_reasons": [f.name for f in reasons],
        "risk_factors": {
            f.name: {"value": rounded(f.value), "contribution": rounded(f.contribution)} for f in risk.factors
        },
        "lowest_decision_role": risk.lowest_role,
        "unheard_decision_makers": [p.stakeholder_id for p in snapshot.unheard_decision_makers],
        "window_source": None if window is None else window.source,
        "days_to_renewal": None if window is None else window.days_to_renewal,
        "renewal_date": None if snapshot.renewal_date is None else snapshot.renewal_date.isoformat(),
    }
    people = [p for p in snapshot.stakeholders if p.decision_maker]
    return [
        Condition(
            "renewal_risk",
            None,
            severity,
            summary,
            metrics,
            role_points(snapshot),
            evidence(snapshot.evidence, *(p.evidence for p in people)),
        )
    ]


__all__ = ["RenewalWindow", "factor_phrase", "renewal_risk", "renewal_window"]
