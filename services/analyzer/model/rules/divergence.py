"""Rules on the split between client roles: its size, its growth, the average hiding it, its end."""

from __future__ import annotations

from services.analyzer.model.alerts import Condition
from services.analyzer.model.rules.figures import (
    Active,
    account_figures,
    active_severity,
    days,
    gap_phrase,
    mean_phrase,
    role_evidence,
    role_points,
    rounded,
)
from services.analyzer.model.snapshot import AccountSnapshot
from services.analyzer.model.thresholds import Thresholds, beyond_noise, grade, reaches


def stakeholder_divergence(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> list[Condition]:
    """The client role gap that survives the noise (its lower bound) crosses the divergence threshold."""
    current = active_severity(active, "stakeholder_divergence")
    split = snapshot.divergence
    if split is None:
        if current is None:
            return []
        # Roles aged out of confidence: that is no evidence of convergence, so an open alert holds.
        summary = "Divergence can no longer be measured: fewer than two roles have recent answers"
        metrics = account_figures(snapshot) | {"measurable": False}
        return [Condition("stakeholder_divergence", None, current, summary, metrics, evidence=snapshot.evidence)]
    severity = grade(
        split.lower,
        warning=th.divergence_warning,
        critical=th.divergence_critical,
        clear=th.divergence_clear,
        margin=th.severity_margin,
        current=current,
    )
    if severity is None:
        return []
    return [
        Condition(
            "stakeholder_divergence",
            None,
            severity,
            f"{gap_phrase(split)} while {mean_phrase(snapshot)}",
            account_figures(snapshot) | {"measurable": True, "roles_counted": split.roles_counted},
            role_points(snapshot),
            role_evidence(snapshot, split.high.role, split.low.role),
        )
    ]


def divergence_widening(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> list[Condition]:
    """Divergence grew, beyond its noise, by more than the set amount within the trailing window."""
    split, growth = snapshot.divergence, snapshot.trend
    if split is None or growth is None:
        return []
    severity = grade(
        beyond_noise(growth, split.se, th),
        warning=th.widening_warning,
        critical=th.widening_critical,
        clear=th.widening_clear,
        margin=th.severity_margin,
        current=active_severity(active, "divergence_widening"),
    )
    if severity is None:
        return []
    window = days(th.trend_window)
    summary = (
        f"Divergence grew by {growth:.2f} within {window:g} days to {split.gap:.2f}: "
        f"{gap_phrase(split)} and moving apart"
    )
    return [
        Condition(
            "divergence_widening",
            None,
            severity,
            summary,
            account_figures(snapshot) | {"window_days": window, "divergence_before": rounded(split.gap - growth)},
            role_points(snapshot),
            role_evidence(snapshot, split.high.role, split.low.role),
        )
    ]


def masked_by_average(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> list[Condition]:
    """The account average looks healthy and stable while the roles are far apart."""
    current = active_severity(active, "masked_by_average")
    split, mean, before = snapshot.divergence, snapshot.account_mean, snapshot.account_mean_before
    if split is None or mean is None:
        return []
    healthy = reaches(mean, th.healthy_mean if current is None else th.healthy_mean_clear)
    # "Stable" is one-sided: a rising average hides a split just as well as a flat one does.
    stable = before is None or reaches(mean - before, -th.mean_fall_tolerance)
    severity = grade(
        split.lower,
        warning=th.divergence_warning,
        critical=th.divergence_critical,
        clear=th.divergence_clear,
        margin=th.severity_margin,
        current=current,
    )
    if severity is None or not (healthy and stable):
        return []
    change = "" if before is None else f" ({mean - before:+.2f} within {days(th.trend_window):g} days)"
    summary = f"The account average reads {mean:+.2f}{change}"
    if snapshot.nps is not None:
        summary += f" and NPS {snapshot.nps:+.0f}"
    summary += f", yet {gap_phrase(split)}"
    return [
        Condition(
            "masked_by_average",
            None,
            severity,
            summary,
            account_figures(snapshot) | {"account_mean_before": rounded(before)},
            role_points(snapshot),
            role_evidence(snapshot, split.high.role, split.low.role),
        )
    ]


def _converged(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> bool:
    split = snapshot.divergence
    if ("stakeholder_divergence", None) in active:
        # Measured convergence only: roles merely ageing out of confidence prove nothing. The same
        # figure the divergence alert resolves on (its lower bound), so the notice comes with it.
        return split is not None and not reaches(split.lower, th.divergence_clear)
    notice = active.get(("alignment_restored", None))
    if notice is None or snapshot.as_of - notice.opened_as_of >= th.restored_hold:
        return False
    # The notice stays while no new split has opened (one opening resolves it at once).
    return split is None or not reaches(split.lower, th.divergence_warning)


def alignment_restored(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> list[Condition]:
    """An account with an active divergence alert converged below its clear level (info, held a while)."""
    if not _converged(snapshot, th, active):
        return []
    split = snapshot.divergence
    if split is None:
        summary = "The roles converged; no split has opened since"
        found_in = snapshot.evidence
    else:
        summary = (
            f"{gap_phrase(split)}, no more than {max(split.lower, 0.0):.2f} of it beyond the noise, below "
            f"{th.divergence_clear:.2f}: the roles have converged again"
        )
        found_in = role_evidence(snapshot, split.high.role, split.low.role)
    return [
        Condition(
            "alignment_restored",
            None,
            "info",
            summary,
            account_figures(snapshot),
            role_points(snapshot),
            found_in,
        )
    ]
