"""Every threshold the alert rules use, with defaults (reasoned in docs/model.md), and the hysteresis.

Each graded rule has three levels on a "higher is worse" figure: ``warning`` and ``critical`` open or
escalate an alert, and ``clear`` (below ``warning``) is where an open alert resolves. Between
``clear`` and ``warning`` an open alert holds, so a figure hovering at a threshold does not flap.
Severity also moves down, but only once the figure is ``severity_margin`` below ``critical``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Final

from services.analyzer.model.alerts import Severity

# The roles whose people decide a renewal unless a person's own ``decision_maker`` flag says otherwise.
DECISION_ROLES: Final = frozenset({"procurement", "finance", "executive_sponsor"})


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Settings of the alert rules; positions and gaps on -1 … +1, durations in event time."""

    # Roles with less confidence than this count in no divergence: one answer counts ~114 days.
    min_role_confidence: float = 0.25
    # How far below ``*_critical`` a figure must fall before a critical alert steps down to warning.
    severity_margin: float = 0.1

    # The standard deviation of one answer on -1 … +1 before an account's own answers say otherwise
    # (0.2 is one NPS point), and how many answers' worth of weight that default carries.
    answer_noise: float = 0.2
    noise_prior_answers: float = 10.0
    # How many standard errors a gap or a drop must clear: divergence is graded on gap - z·se.
    divergence_z: float = 1.0

    # stakeholder_divergence grades the gap's lower bound (gap - divergence_z·se), not the raw gap.
    divergence_warning: float = 0.4
    divergence_critical: float = 0.7
    divergence_clear: float = 0.25

    trend_window: timedelta = timedelta(days=90)
    # divergence_widening grades the growth beyond its noise (growth - divergence_z·√2·se).
    widening_warning: float = 0.2
    widening_critical: float = 0.4
    widening_clear: float = 0.1

    # masked_by_average: the mean "looks healthy" at or above this and did not fall by more than
    # ``mean_fall_tolerance`` over ``trend_window``; it holds an open alert down to ``healthy_mean_clear``.
    healthy_mean: float = 0.2
    healthy_mean_clear: float = 0.1
    mean_fall_tolerance: float = 0.15

    renewal_window: timedelta = timedelta(days=120)
    renewal_critical_within: timedelta = timedelta(days=30)
    # NPS 6 normalises to +0.2: a position at or below it reads as a detractor.
    detractor_line: float = 0.2
    decision_roles: frozenset[str] = DECISION_ROLES

    perception_gap_warning: float = 0.5
    perception_gap_critical: float = 0.8
    perception_gap_clear: float = 0.3
    # Above this a side rates a dimension a strength, at or below it a weakness.
    strength_line: float = 0.2

    silent_after: timedelta = timedelta(days=120)
    silent_critical_after: timedelta = timedelta(days=180)

    drop_window: timedelta = timedelta(days=30)
    drop_warning: float = 0.3
    drop_critical: float = 0.6
    drop_clear: float = 0.15

    # How long an alignment_restored notice stays open while the account stays aligned.
    restored_hold: timedelta = timedelta(days=30)

    # renewal_risk: the account's renewal-risk probability (``risk.py``), with hysteresis.
    risk_warning: float = 0.44
    risk_critical: float = 0.6
    risk_clear: float = 0.34
    # The risk this long before a renewal is the prediction its outcome is checked against.
    risk_horizon: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        for family in ("divergence", "widening", "perception_gap", "drop", "risk"):
            clear, warning, critical = (
                getattr(self, f"{family}_{level}") for level in ("clear", "warning", "critical")
            )
            if not 0 <= clear < warning <= critical:
                raise ValueError(f"{family}: need 0 <= clear < warning <= critical")
        if not 0 <= self.min_role_confidence < 1:
            raise ValueError("min_role_confidence must lie in [0, 1)")
        if self.severity_margin < 0 or self.mean_fall_tolerance < 0 or self.divergence_z < 0:
            raise ValueError("severity_margin, mean_fall_tolerance and divergence_z must not be negative")
        if self.answer_noise <= 0 or self.noise_prior_answers < 0:
            raise ValueError("answer_noise must be positive and noise_prior_answers not negative")
        if not self.risk_critical <= 1:
            raise ValueError("risk levels are probabilities: risk_critical must not exceed 1")
        if self.healthy_mean_clear > self.healthy_mean:
            raise ValueError("healthy_mean_clear must not exceed healthy_mean")
        if self.silent_critical_after < self.silent_after:
            raise ValueError("silent_critical_after must not be shorter than silent_after")
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, timedelta) and value <= timedelta(0):
                raise ValueError(f"{spec.name} must be a positive duration")


DEFAULT_THRESHOLDS: Final = Thresholds()

# Figures are compared with a little slack, so that a figure that prints as the threshold (0.2 from
# (0.7 + 0.1 - 0.2) / 3, which is 0.19999999999999998) counts as reaching it on every machine.
TOLERANCE: Final = 1e-9


def reaches(value: float, level: float) -> bool:
    """``value >= level``, up to float noise."""
    return value >= level - TOLERANCE


def above(value: float, level: float) -> bool:
    """``value > level``, up to float noise (the negation of ``reaches(level, value)``)."""
    return value > level + TOLERANCE


def beyond_noise(change: float, se: float, th: Thresholds) -> float:
    """How much of a change between two readings survives their noise: change - z·√2·se.

    Both readings carry about the same standard error ``se`` (the later one's), so their difference
    carries √2 times it. An infinite ``se`` (no evidence) leaves nothing.
    """
    if not math.isfinite(se):
        return -math.inf
    return change - th.divergence_z * math.sqrt(2.0) * se


def grade(
    value: float | None,
    *,
    warning: float,
    critical: float,
    clear: float,
    margin: float,
    current: Severity | None,
) -> Severity | None:
    """Severity of a "higher is worse" figure, with hysteresis against the ``current`` open severity."""
    if value is None:
        return None
    if current is None:
        if reaches(value, critical):
            return "critical"
        return "warning" if reaches(value, warning) else None
    if not reaches(value, clear):
        return None
    if reaches(value, critical) or (current == "critical" and reaches(value, critical - margin)):
        return "critical"
    return "warning"
