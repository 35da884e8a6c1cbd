"""The eight alert rules (docs/api.md, "Alert types"), pure functions of an ``AccountSnapshot``.

Each rule returns the conditions that hold now. It is told which alerts are already active so that it
can apply hysteresis (an active alert holds down to its ``clear`` level); the lifecycle then only
compares conditions with active alerts. No rule reads the wall clock: ``snapshot.as_of`` is the clock,
so the same snapshot and active alerts always give the same conditions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Final

from services.analyzer.model.alerts import ALERT_TYPES, ActiveAlert, AlertType, Condition
from services.analyzer.model.rules.divergence import (
    alignment_restored,
    divergence_widening,
    masked_by_average,
    stakeholder_divergence,
)
from services.analyzer.model.rules.figures import Active, role_label
from services.analyzer.model.rules.perception import DimensionGap, Perception, classify, dimension_gaps, perception_gap
from services.analyzer.model.rules.renewal import RenewalWindow, renewal_risk, renewal_window
from services.analyzer.model.rules.stakeholders import position_drop, silent_decision_makers, silent_stakeholder
from services.analyzer.model.snapshot import AccountSnapshot
from services.analyzer.model.thresholds import DEFAULT_THRESHOLDS, Thresholds

Rule = Callable[[AccountSnapshot, Thresholds, Active], list[Condition]]

RULES: Final[dict[AlertType, Rule]] = {
    "stakeholder_divergence": stakeholder_divergence,
    "divergence_widening": divergence_widening,
    "masked_by_average": masked_by_average,
    "renewal_risk": renewal_risk,
    "perception_gap": perception_gap,
    "silent_stakeholder": silent_stakeholder,
    "position_drop": position_drop,
    "alignment_restored": alignment_restored,
}


def evaluate(
    snapshot: AccountSnapshot,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    active: Sequence[ActiveAlert] = (),
    *,
    types: Collection[AlertType] | None = None,
) -> list[Condition]:
    """Every condition that holds for the account now, in the order of ``ALERT_TYPES``, then by key.

    ``active``: the account's alerts not yet closed by their condition clearing (open, acknowledged,
    or resolved by hand and muted). ``types`` limits the rules run, e.g. to ``silent_stakeholder`` on a
    wall-clock sweep.
    """
    lookup = {alert.identity: alert for alert in active}
    conditions: list[Condition] = []
    for type_ in ALERT_TYPES:
        if types is None or type_ in types:
            conditions.extend(RULES[type_](snapshot, thresholds, lookup))
    return conditions


__all__ = [
    "RULES",
    "DimensionGap",
    "Perception",
    "RenewalWindow",
    "Rule",
    "alignment_restored",
    "classify",
    "dimension_gaps",
    "divergence_widening",
    "evaluate",
    "masked_by_average",
    "perception_gap",
    "position_drop",
    "renewal_risk",
    "renewal_window",
    "role_label",
    "silent_decision_makers",
    "silent_stakeholder",
    "stakeholder_divergence",
]
