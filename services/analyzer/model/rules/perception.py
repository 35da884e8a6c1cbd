"""The perception_gap rule: the supplier's self-assessment against what the client reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.analyzer.model.alerts import Condition
from services.analyzer.model.positions import SidePosition
from services.analyzer.model.rules.figures import (
    Active,
    account_figures,
    active_severity,
    evidence,
    role_point,
    rounded,
)
from services.analyzer.model.snapshot import AccountSnapshot
from services.analyzer.model.thresholds import Thresholds, above, grade, reaches

Perception = Literal["blind_spot", "undervalued_advantage", "agreed_strength", "agreed_weakness"]
ALL_DIMENSIONS = "all"


@dataclass(frozen=True, slots=True)
class DimensionGap:
    """Supplier and client positions on one dimension, their gap and what kind of gap it is."""

    dimension: str
    supplier: float
    client: float
    perception: Perception

    @property
    def gap(self) -> float:
        """Supplier minus client: positive when the supplier thinks better of itself."""
        return self.supplier - self.client


def classify(supplier: float, client: float, strength_line: float) -> Perception:
    """Blind spot (supplier high, client low), undervalued advantage (the reverse), or agreement."""
    supplier_high, client_high = above(supplier, strength_line), above(client, strength_line)
    if supplier_high and not client_high:
        return "blind_spot"
    if client_high and not supplier_high:
        return "undervalued_advantage"
    return "agreed_strength" if supplier_high else "agreed_weakness"


def dimension_gaps(snapshot: AccountSnapshot, th: Thresholds) -> list[DimensionGap]:
    """Every dimension (and ``all`` answers together) where both sides have enough confidence."""
    rows: list[tuple[str, SidePosition | None, SidePosition | None]] = [
        (ALL_DIMENSIONS, snapshot.client_side, snapshot.supplier_side)
    ]
    rows.extend((d.dimension, d.client, d.supplier) for d in snapshot.dimensions)
    gaps = []
    for name, client, supplier in rows:
        if client is None or supplier is None:
            continue
        if not reaches(min(client.confidence, supplier.confidence), th.min_role_confidence):
            continue
        perception = classify(supplier.position, client.position, th.strength_line)
        gaps.append(DimensionGap(name, supplier.position, client.position, perception))
    return gaps


def perception_gap(snapshot: AccountSnapshot, th: Thresholds, active: Active) -> list[Condition]:
    """The supplier side rates itself far above what the client side reports, on any dimension."""
    gaps = dimension_gaps(snapshot, th)
    if not gaps:
        return []
    # The widest gap decides; ties go to the first row (``all`` first, then by dimension name).
    worst = max(gaps, key=lambda g: g.gap)
    severity = grade(
        worst.gap,
        warning=th.perception_gap_warning,
        critical=th.perception_gap_critical,
        clear=th.perception_gap_clear,
        margin=th.severity_margin,
        current=active_severity(active, "perception_gap"),
    )
    if severity is None:
        return []
    where = "overall" if worst.dimension == ALL_DIMENSIONS else f"on {worst.dimension}"
    summary = (
        f"Your team rates itself {worst.supplier:+.2f} {where}, the client {worst.client:+.2f}: "
        f"{worst.gap:.2f} apart ({worst.perception.replace('_', ' ')})"
    )
    metrics = account_figures(snapshot) | {
        "gap": rounded(worst.gap),
        "dimension": worst.dimension,
        "dimensions": [
            {
                "dimension": g.dimension,
                "supplier": rounded(g.supplier),
                "client": rounded(g.client),
                "gap": rounded(g.gap),
                "perception": g.perception,
            }
            for g in gaps
        ],
    }
    points = tuple(role_point(r) for r in (*snapshot.roles, *snapshot.supplier_roles))
    supplier_ids = [p.evidence for p in snapshot.stakeholders if p.side == "supplier"]
    return [
        Condition(
            "perception_gap", None, severity, summary, metrics, points, evidence(*supplier_ids, snapshot.evidence)
        )
    ]
