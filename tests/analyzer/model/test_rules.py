"""Every alert rule on both sides of each of its thresholds, with hysteresis and severities."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from services.analyzer.model import (
    AccountSnapshot,
    ClassicScores,
    Condition,
    DimensionPositions,
    PositionChange,
    SidePosition,
    StakeholderPosition,
    StakeholderRecord,
    Thresholds,
    build_snapshot,
    evaluate,
)
from services.analyzer.model.alerts import ActiveAlert, AlertStatus, AlertType, Severity
from services.analyzer.model.divergence import divergence
from services.analyzer.model.positions import RolePosition
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, Factor, Risk, RiskModel
from services.analyzer.model.rules import RULES, classify
from services.analyzer.model.rules import renewal_window as rules_renewal_window
from services.analyzer.model.rules.renewal import renewal_window as renewal_rule_window
from services.analyzer.model.snapshot import RenewalWindow, renewal_window
from services.analyzer.model.thresholds import beyond_noise, grade, reaches
from tests.analyzer.model.factories import (
    at,
    create_active,
    create_person,
    create_role,
    create_snapshot,
    create_state,
    renewal_on,
)

TH = Thresholds()


def run(type_: AlertType, snapshot: AccountSnapshot, *active: ActiveAlert, th: Thresholds = TH) -> list[Condition]:
    """Evaluate one rule type."""
    return evaluate(snapshot, th, active, types={type_})


def severities(conditions: list[Condition]) -> list[str]:
    """The severities found, in order."""
    return [c.severity for c in conditions]


def classic(nps: float) -> ClassicScores:
    """Classic scores with only an NPS."""
    return ClassicScores(nps, 6, 3, 1, 2, None, 0, None, 0)


# --- grading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "current", "expected"),
    [
        (None, None, None),
        (0.49, None, None),
        (0.5, None, "warning"),
        (0.79, None, "warning"),
        (0.8, None, "critical"),
        (0.3, "warning", "warning"),
        (0.29, "warning", None),
        (0.29, "critical", None),
        (0.7, "critical", "critical"),
        (0.69, "critical", "warning"),
        (0.8, "warning", "critical"),
    ],
)
def test_grade_with_hysteresis(value: float | None, current: Severity | None, expected: str | None) -> None:
    got = grade(value, warning=0.5, critical=0.8, clear=0.3, margin=0.1, current=current)
    assert got == expected


def test_thresholds_refuse_inconsistent_levels() -> None:
    with pytest.raises(ValueError, match="divergence"):
        Thresholds(divergence_clear=0.6)
    with pytest.raises(ValueError, match="drop"):
        Thresholds(drop_critical=0.2)
    with pytest.raises(ValueError, match="min_role_confidence"):
        Thresholds(min_role_confidence=1.0)
    with pytest.raises(ValueError, match="positive duration"):
        Thresholds(trend_window=timedelta(0))
    with pytest.raises(ValueError, match="silent_critical_after"):
        Thresholds(silent_critical_after=timedelta(days=10))
    with pytest.raises(ValueError, match="healthy_mean_clear"):
        Thresholds(healthy_mean_clear=0.5)
    with pytest.raises(ValueError, match="negative"):
        Thresholds(severity_margin=-0.1)
    with pytest.raises(ValueError, match="negative"):
        Thresholds(divergence_z=-1.0)
    with pytest.raises(ValueError, match="risk"):
        Thresholds(risk_clear=0.5)
    with pytest.raises(ValueError, match="risk_critical"):
        Thresholds(risk_warning=0.9, risk_critical=1.1)
    with pytest.raises(ValueError, match="answer_noise"):
        Thresholds(answer_noise=0.0)


def test_default_levels_are_the_documented_ones() -> None:
    # Divergence and widening are graded on what survives the noise, so their levels sit below the
    # raw-gap levels of the earlier model; IT no longer decides a renewal by default.
    assert (TH.divergence_warning, TH.divergence_critical, TH.divergence_clear) == (0.4, 0.7, 0.25)
    assert (TH.widening_warning, TH.widening_critical, TH.widening_clear) == (0.2, 0.4, 0.1)
    assert (TH.risk_warning, TH.risk_critical, TH.risk_clear) == (0.44, 0.6, 0.34)
    assert TH.divergence_z == 1.0
    assert TH.decision_roles == {"procurement", "finance", "executive_sponsor"}


@pytest.mark.parametrize(
    ("change", "se", "expected"),
    [(0.5, 0.0, 0.5), (0.5, 0.1, 0.5 - math.sqrt(2) * 0.1), (0.5, math.inf, -math.inf), (-0.2, 0.0, -0.2)],
)
def test_beyond_noise_takes_off_the_noise_of_two_readings(change: float, se: float, expected: float) -> None:
    assert beyond_noise(change, se, TH) == pytest.approx(expected)


# --- stakeholder_divergence ---------------------------------------------------------------------


def test_divergence_summary_reads_like_the_contract() -> None:
    snapshot = create_snapshot({"procurement": 0.8, "it": -0.2, "end_user": 0.45})
    (condition,) = run("stakeholder_divergence", snapshot)
    assert condition.summary == (
        "Procurement (+0.80) and IT (-0.20) are 1.00 apart while the account average reads +0.35"
    )
    assert condition.severity == "critical"
    assert condition.key is None
    assert condition.metrics["divergence"] == 1.0
    assert condition.metrics["account_mean"] == 0.35
    assert (condition.metrics["high_role"], condition.metrics["low_role"]) == ("procurement", "it")
    assert condition.positions[0].as_dict() == {"role": "end_user", "position": 0.45, "confidence": 0.9}
    assert condition.evidence == ("ev-procurement-1", "ev-it-1", "ev-trigger")


def test_divergence_summary_shows_nps_when_known() -> None:
    snapshot = create_snapshot({"procurement": 0.8, "it": -0.2, "end_user": 0.45}, classic=classic(33.3))
    (condition,) = run("stakeholder_divergence", snapshot)
    assert condition.summary.endswith("the account average reads +0.35 (NPS +33)")
    assert condition.metrics["nps"] == 33.3


# Roles measured exactly (se 0, the factories' default): the lower bound is the gap itself.
@pytest.mark.parametrize(
    ("gap", "expected"), [(0.39, []), (0.4, ["warning"]), (0.69, ["warning"]), (0.7, ["critical"])]
)
def test_divergence_opens_at_its_thresholds(gap: float, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.1 + gap, "it": 0.1})
    assert severities(run("stakeholder_divergence", snapshot)) == expected


@pytest.mark.parametrize(
    ("gap", "held", "expected"),
    [
        (0.26, "warning", ["warning"]),
        (0.24, "warning", []),
        (0.61, "critical", ["critical"]),  # within the margin below critical: holds
        (0.59, "critical", ["warning"]),
    ],
)
def test_divergence_holds_down_to_its_clear_level(gap: float, held: Severity, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.1 + gap, "it": 0.1})
    active = create_active("stakeholder_divergence", held)
    assert severities(run("stakeholder_divergence", snapshot, active)) == expected


def noisy(role: str, position: float, se: float) -> RolePosition:
    """A role measured with standard error ``se``."""
    return replace(create_role(role, position), se=se)


def noisy_split(gap: float, se: float, **overrides: Any) -> AccountSnapshot:
    """Procurement ``gap`` above IT, each role with standard error ``se``, divergence at the default z."""
    roles = [noisy("procurement", 0.1 + gap, se), noisy("it", 0.1, se)]
    split = divergence(roles, min_confidence=TH.min_role_confidence, z=TH.divergence_z)
    return create_snapshot(roles, divergence=split, **overrides)


@pytest.mark.parametrize(
    ("gap", "se", "expected"),
    [
        (0.6, 0.1, ["warning"]),  # lower bound 0.6 - √2·0.1 = 0.46
        (0.6, 0.15, []),  # lower bound 0.39: the same gap, measured too loosely to open
        (0.9, 0.1, ["critical"]),  # lower bound 0.76
        (0.9, 0.15, ["warning"]),  # lower bound 0.69
    ],
)
def test_divergence_is_graded_on_the_gaps_lower_bound(gap: float, se: float, expected: list[str]) -> None:
    snapshot = noisy_split(gap, se)
    assert snapshot.divergence is not None
    assert snapshot.divergence.lower == pytest.approx(gap - math.sqrt(2) * se)
    assert severities(run("stakeholder_divergence", snapshot)) == expected


def test_divergence_summary_and_figures_show_the_noise() -> None:
    (condition,) = run("stakeholder_divergence", noisy_split(0.6, 0.1))
    assert condition.summary == (
        "Procurement (+0.70) and IT (+0.10) are 0.60 (±0.14) apart while the account average reads +0.40"
    )
    assert condition.metrics["divergence"] == 0.6
    assert condition.metrics["divergence_se"] == pytest.approx(round(math.sqrt(2) * 0.1, 4))
    assert condition.metrics["divergence_lower"] == pytest.approx(round(0.6 - math.sqrt(2) * 0.1, 4))
    assert condition.metrics["roles_counted"] == 2


def test_an_exactly_measured_gap_shows_no_interval() -> None:
    (condition,) = run("stakeholder_divergence", create_snapshot({"procurement": 0.8, "it": 0.1}))
    assert "±" not in condition.summary
    assert condition.metrics["divergence_se"] == 0.0
    assert condition.metrics["divergence_lower"] == 0.7


def test_unconfident_roles_do_not_make_a_divergence() -> None:
    roles = [create_role("procurement", 0.9), create_role("it", -0.9, 0.2)]
    assert run("stakeholder_divergence", create_snapshot(roles)) == []


def test_an_unmeasurable_divergence_holds_an_open_alert_as_it_was() -> None:
    snapshot = create_snapshot({"procurement": 0.9})
    assert run("stakeholder_divergence", snapshot) == []
    (condition,) = run("stakeholder_divergence", snapshot, create_active("stakeholder_divergence", "critical"))
    assert condition.severity == "critical"
    assert condition.metrics["measurable"] is False


# --- divergence_widening ------------------------------------------------------------------------


# Roles measured exactly: all of the growth survives the noise.
@pytest.mark.parametrize(
    ("trend", "held", "expected"),
    [
        (0.19, None, []),
        (0.2, None, ["warning"]),
        (0.4, None, ["critical"]),
        (0.11, "warning", ["warning"]),
        (0.09, "warning", []),
        (-0.4, None, []),
    ],
)
def test_widening_at_its_thresholds(trend: float, held: Severity | None, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.8, "it": 0.0}, trend=trend)
    active = [] if held is None else [create_active("divergence_widening", held)]
    assert severities(run("divergence_widening", snapshot, *active)) == expected


@pytest.mark.parametrize(
    ("trend", "se", "expected"),
    [
        # The divergence's se is √2 x the roles' and the growth's √2 x that: 2 x the roles' se.
        (0.35, 0.05, ["warning"]),  # 0.35 - 2·0.05 = 0.25
        (0.35, 0.1, []),  # 0.15
        (0.6, 0.05, ["critical"]),  # 0.5
        (0.6, 0.15, ["warning"]),  # 0.3
    ],
)
def test_widening_is_graded_on_the_growth_beyond_its_noise(trend: float, se: float, expected: list[str]) -> None:
    snapshot = noisy_split(0.8, se, trend=trend)
    assert severities(run("divergence_widening", snapshot)) == expected


def test_widening_summary_and_figures() -> None:
    snapshot = create_snapshot({"procurement": 0.8, "it": 0.0}, trend=0.35)
    (condition,) = run("divergence_widening", snapshot)
    assert condition.summary == (
        "Divergence grew by 0.35 within 90 days to 0.80: Procurement (+0.80) and IT (+0.00) are 0.80 apart "
        "and moving apart"
    )
    assert condition.metrics["divergence_before"] == pytest.approx(0.45)
    assert condition.metrics["window_days"] == 90


def test_no_widening_without_a_trend_or_a_divergence() -> None:
    assert run("divergence_widening", create_snapshot({"procurement": 0.8, "it": 0.0})) == []
    assert run("divergence_widening", create_snapshot({"procurement": 0.8}, trend=0.9)) == []


# --- masked_by_average --------------------------------------------------------------------------

SPLIT = {"procurement": 0.7, "it": 0.1, "end_user": -0.2}  # gap 0.9, mean +0.2


@pytest.mark.parametrize(
    ("mean", "before", "expected"),
    [
        (0.2, None, ["critical"]),
        (0.19, None, []),
        (0.2, 0.35, ["critical"]),  # fell 0.15: still "stable"
        (0.2, 0.3501, []),  # fell more than 0.15
        (0.2, -0.5, ["critical"]),  # rising hides the split as well
    ],
)
def test_masked_by_average_needs_a_healthy_stable_mean(mean: float, before: float | None, expected: list[str]) -> None:
    snapshot = create_snapshot(SPLIT, account_mean=mean, account_mean_before=before)
    assert severities(run("masked_by_average", snapshot)) == expected


@pytest.mark.parametrize(("gap", "expected"), [(0.39, []), (0.4, ["warning"]), (0.7, ["critical"])])
def test_masked_by_average_needs_a_high_divergence(gap: float, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.5 + gap / 2, "it": 0.5 - gap / 2})
    assert severities(run("masked_by_average", snapshot)) == expected


def test_masked_by_average_grades_the_gaps_lower_bound_too() -> None:
    assert severities(run("masked_by_average", noisy_split(0.6, 0.1))) == ["warning"]
    assert run("masked_by_average", noisy_split(0.6, 0.15)) == []


@pytest.mark.parametrize(("mean", "expected"), [(0.1, ["critical"]), (0.09, [])])
def test_masked_by_average_holds_down_to_the_clear_mean(mean: float, expected: list[str]) -> None:
    snapshot = create_snapshot(SPLIT, account_mean=mean)
    assert severities(run("masked_by_average", snapshot, create_active("masked_by_average", "critical"))) == expected


def test_masked_by_average_summary() -> None:
    snapshot = create_snapshot(SPLIT, account_mean_before=0.1, classic=classic(25))
    (condition,) = run("masked_by_average", snapshot)
    assert condition.summary == (
        "The account average reads +0.20 (+0.10 within 90 days) and NPS +25, yet Procurement (+0.70) and "
        "End users (-0.20) are 0.90 apart"
    )
    assert condition.metrics["account_mean_before"] == 0.1


# --- renewal window -----------------------------------------------------------------------------

CALM = {"procurement": 0.6, "it": 0.5}


def window_of(**overrides: Any) -> RenewalWindow | None:
    """The renewal window of a calm account on day 200 with these renewal facts."""
    return renewal_window(create_snapshot(CALM, **overrides), TH)


def test_renewal_window_lives_in_the_snapshot_and_the_rules_still_export_it() -> None:
    assert rules_renewal_window is renewal_window
    assert renewal_rule_window is renewal_window


@pytest.mark.parametrize(("days_left", "inside"), [(-1, False), (0, True), (120, True), (121, False)])
def test_renewal_window_from_the_renewal_date(days_left: int, inside: bool) -> None:
    found = window_of(renewal_date=renewal_on(200 + days_left))
    assert found == (RenewalWindow("renewal_date", days_left) if inside else None)


@pytest.mark.parametrize(("moment_day", "inside"), [(201, False), (200, True), (80, True), (79, False)])
def test_renewal_window_from_a_renewal_approach_moment(moment_day: int, inside: bool) -> None:
    found = window_of(renewal_moment_at=at(moment_day))
    assert found == (RenewalWindow("renewal_approach", None) if inside else None)


def test_a_renewal_outcome_closes_the_window() -> None:
    assert window_of(renewal_moment_at=at(150), renewal_outcome_at=at(160)) is None
    assert window_of(renewal_moment_at=at(150), renewal_outcome_at=at(100)) is not None
    assert window_of(renewal_date=renewal_on(260), renewal_outcome_at=at(190)) is None
    assert window_of(renewal_date=renewal_on(260), renewal_outcome_at=at(100)) is not None


# --- renewal_risk -------------------------------------------------------------------------------

# A risk as a model would give it: Finance low, NPS modest, the split growing; the decision makers'
# mean is above the healthy reference and lowers the risk, and a factor the model leaves out adds 0.
FACTORS = (
    Factor("lowest_decision_maker", -0.35, 1.1305),
    Factor("decision_makers_mean", 0.7, -0.177),
    Factor("unheard_near_renewal", 0.5, 0.035),
    Factor("divergence", 0.45, 0.0),
    Factor("widening", 0.3, 0.159),
    Factor("nps", 0.1, 0.189),
)


def at_risk(probability: float, *factors: Factor, lowest_role: str | None = None, **overrides: Any) -> AccountSnapshot:
    """A calm account on day 200 whose renewal risk reads ``probability``."""
    return create_snapshot(CALM, risk=Risk(probability, "test-model", factors, lowest_role), **overrides)


@pytest.mark.parametrize(
    ("probability", "expected"), [(0.43, []), (0.44, ["warning"]), (0.59, ["warning"]), (0.6, ["critical"])]
)
def test_renewal_risk_opens_at_its_thresholds(probability: float, expected: list[str]) -> None:
    assert severities(run("renewal_risk", at_risk(probability))) == expected


@pytest.mark.parametrize(
    ("probability", "held", "expected"),
    [
        (0.35, "warning", ["warning"]),
        (0.33, "warning", []),
        (0.51, "critical", ["critical"]),  # within the margin below critical: holds
        (0.49, "critical", ["warning"]),
        (0.6, "warning", ["critical"]),
        (0.33, "critical", []),
    ],
)
def test_renewal_risk_holds_down_to_its_clear_level(probability: float, held: Severity, expected: list[str]) -> None:
    active = create_active("renewal_risk", held)
    assert severities(run("renewal_risk", at_risk(probability), active)) == expected


def test_no_renewal_risk_without_a_risk_even_inside_the_window() -> None:
    assert (
        run("renewal_risk", create_snapshot({"procurement": 0.8, "finance": -0.5}, renewal_date=renewal_on(230))) == []
    )


def test_renewal_risk_does_not_wait_for_the_renewal_window() -> None:
    (condition,) = run("renewal_risk", at_risk(0.5))
    assert condition.summary == "Renewal risk 50%"
    assert condition.metrics["window_source"] is None
    assert condition.metrics["days_to_renewal"] is None
    assert condition.metrics["risk_reasons"] == []


def test_renewal_risk_summary_names_the_top_reasons() -> None:
    snapshot = at_risk(0.62, *FACTORS, lowest_role="finance", renewal_date=renewal_on(260))
    (condition,) = run("renewal_risk", snapshot)
    assert condition.severity == "critical"
    assert condition.summary == (
        "Renewal in 60 days, risk 62%: lowest decision maker Finance at -0.35; NPS +10; divergence grew by 0.30"
    )
    assert condition.metrics["risk_reasons"] == ["lowest_decision_maker", "nps", "widening"]


def test_renewal_risk_metrics_carry_every_factor() -> None:
    snapshot = at_risk(0.62, *FACTORS, lowest_role="finance", renewal_moment_at=at(150))
    (condition,) = run("renewal_risk", snapshot)
    assert condition.summary.startswith("Renewal approaching, risk 62%: ")
    metrics = condition.metrics
    assert metrics["risk"] == 0.62
    assert metrics["risk_model"] == "test-model"
    assert metrics["risk_factors"] == {f.name: {"value": f.value, "contribution": f.contribution} for f in FACTORS}
    assert metrics["lowest_decision_role"] == "finance"
    assert metrics["unheard_decision_makers"] == []
    assert (metrics["window_source"], metrics["days_to_renewal"]) == ("renewal_approach", None)
    assert metrics["renewal_date"] is None
    # The decision makers' latest answers are the evidence (IT does not decide).
    assert condition.evidence == ("ev-trigger", "ev-procurement-1")
    assert [p.role for p in condition.positions] == ["it", "procurement"]


def test_renewal_risk_names_the_unheard_decision_makers() -> None:
    silent = create_person("cfo", "finance", None, last_response_day=None)
    unheard = Factor("unheard_decision_makers", 0.5, 0.4)
    snapshot = at_risk(0.5, unheard, unheard_decision_makers=(silent,))
    (condition,) = run("renewal_risk", snapshot)
    assert condition.summary == "Renewal risk 50%: 50% of decision makers unheard (cfo)"
    assert condition.metrics["unheard_decision_makers"] == ["cfo"]


@pytest.mark.parametrize(
    ("factor", "phrase"),
    [
        (Factor("lowest_decision_maker", 0.4, 0.2), "lowest decision maker no decision maker heard at +0.40"),
        (Factor("unheard_near_renewal", 1.0, 0.07), "100% of decision makers unheard near the renewal (none named)"),
        (Factor("divergence", 0.45, 0.1), "roles 0.45 apart beyond the noise"),
        (Factor("widening", 0.3, 0.159), "divergence grew by 0.30"),
        (Factor("blind_spot", 0.6, 0.1), "supplier rates itself 0.60 above the client"),
        (Factor("nps", -0.2, 0.378), "NPS -20"),
    ],
)
def test_each_reason_reads_as_a_person_would_say_it(factor: Factor, phrase: str) -> None:
    (condition,) = run("renewal_risk", at_risk(0.5, factor))
    assert condition.summary == f"Renewal risk 50%: {phrase}"


@pytest.mark.parametrize("name", ["decision_makers_mean", "decision_makers_fall", "lowest_role", "role_fall"])
def test_every_factor_has_its_own_phrase(name: str) -> None:
    (condition,) = run("renewal_risk", at_risk(0.5, Factor(name, 0.1, 0.5)))
    assert "NPS" not in condition.summary


def client(stakeholder_id: str, role: str, value: float, *, decision_maker: bool | None = None) -> StakeholderRecord:
    """A client person who gave the same answer on days 0, 30 and 60."""
    state = create_state((value, 0), (value, 30), (value, 60))
    return StakeholderRecord(stakeholder_id, role, "client", 1.0, state, decision_maker=decision_maker)


def built(*people: StakeholderRecord, **overrides: Any) -> AccountSnapshot:
    """The snapshot ``build_snapshot`` makes of these people on day 60."""
    return build_snapshot(account_id="acme", as_of=at(60), stakeholders=people, **overrides)


def test_renewal_risk_reads_the_risk_build_snapshot_assessed() -> None:
    low = built(client("paula", "procurement", 0.0), client("frank", "finance", 0.0), client("ivan", "it", 0.6))
    assert low.risk is not None
    assert low.risk.model_version == DEFAULT_RISK_MODEL.version
    assert reaches(low.risk.probability, TH.risk_warning)
    (condition,) = run("renewal_risk", low)
    assert condition.metrics["risk"] == round(low.risk.probability, 4)
    assert condition.metrics["risk_model"] == DEFAULT_RISK_MODEL.version
    assert condition.metrics["risk_reasons"] == [f.name for f in low.risk.reasons()]
    assert condition.metrics["lowest_decision_role"] == "finance"
    healthy = built(client("paula", "procurement", 0.8), client("frank", "finance", 0.8), client("ivan", "it", 0.6))
    assert healthy.risk is not None
    assert healthy.risk.probability < TH.risk_clear
    assert run("renewal_risk", healthy) == []


def test_an_unhappy_it_counts_toward_the_renewal_risk_only_as_a_decision_maker() -> None:
    deciders = (client("paula", "procurement", 0.8), client("frank", "finance", 0.8))
    by_default = built(*deciders, client("ivan", "it", -0.6))
    assert run("renewal_risk", by_default) == []
    flagged = built(*deciders, client("ivan", "it", -0.6, decision_maker=True))
    (condition,) = run("renewal_risk", flagged)
    assert condition.metrics["lowest_decision_role"] == "it"
    assert "lowest decision maker IT at " in condition.summary


def test_a_portfolios_own_model_changes_the_risk() -> None:
    people = (client("paula", "procurement", 0.8), client("frank", "finance", 0.8), client("ivan", "it", -0.6))
    wary = RiskModel(version="wary-it", intercept=-1.0, coefficients={"lowest_role": -3.0})
    snapshot = built(*people, risk_model=wary)
    assert snapshot.risk is not None
    assert snapshot.risk.model_version == "wary-it"
    (condition,) = run("renewal_risk", snapshot)
    assert condition.metrics["risk_model"] == "wary-it"
    assert condition.metrics["risk_reasons"] == ["lowest_role"]


# --- perception_gap -----------------------------------------------------------------------------


def side(position: float, confidence: float = 0.9) -> SidePosition:
    """A side's position."""
    return SidePosition(position, confidence, 1)


@pytest.mark.parametrize(
    ("supplier", "client", "expected"),
    [(0.8, 0.31, []), (0.8, 0.3, ["warning"]), (0.8, 0.0, ["critical"]), (0.2, 0.8, [])],
)
def test_perception_gap_at_its_thresholds(supplier: float, client: float, expected: list[str]) -> None:
    snapshot = create_snapshot({"it": client}, client_side=side(client), supplier_side=side(supplier))
    assert severities(run("perception_gap", snapshot)) == expected


def test_perception_gap_holds_down_to_its_clear_level() -> None:
    active = create_active("perception_gap")
    held = create_snapshot({"it": 0.5}, client_side=side(0.5), supplier_side=side(0.8))
    assert severities(run("perception_gap", held, active)) == ["warning"]
    cleared = create_snapshot({"it": 0.5}, client_side=side(0.5), supplier_side=side(0.7999))
    assert run("perception_gap", cleared, active) == []


def test_perception_gap_classifies_every_dimension() -> None:
    dimensions = (
        DimensionPositions("ease", side(0.5), side(0.5)),
        DimensionPositions("price", side(-0.3), side(-0.2)),
        DimensionPositions("support", side(0.0), side(0.8)),
        DimensionPositions("thin", side(0.0, 0.1), side(0.9)),
        DimensionPositions("value", side(0.5), side(0.0)),
    )
    snapshot = create_snapshot(
        {"it": 0.3}, client_side=side(0.3), supplier_side=side(0.4), dimensions=dimensions, supplier_roles=()
    )
    (condition,) = run("perception_gap", snapshot)
    rows = {row["dimension"]: row for row in condition.metrics["dimensions"]}  # type: ignore[attr-defined]
    assert {name: row["perception"] for name, row in rows.items()} == {
        "all": "agreed_strength",
        "ease": "agreed_strength",
        "price": "agreed_weakness",
        "support": "blind_spot",
        "value": "undervalued_advantage",
    }
    assert condition.metrics["dimension"] == "support"
    assert condition.severity == "critical"
    assert condition.summary == "Your team rates itself +0.80 on support, the client +0.00: 0.80 apart (blind spot)"


@pytest.mark.parametrize(
    ("supplier", "client", "expected"),
    [
        (0.21, 0.2, "blind_spot"),
        (0.2, 0.21, "undervalued_advantage"),
        (0.21, 0.21, "agreed_strength"),
        (0.2, 0.2, "agreed_weakness"),
    ],
)
def test_classify_at_the_strength_line(supplier: float, client: float, expected: str) -> None:
    assert classify(supplier, client, 0.2) == expected


def test_no_perception_gap_without_both_sides() -> None:
    assert run("perception_gap", create_snapshot({"it": 0.0}, client_side=side(0.0))) == []


# --- silent_stakeholder -------------------------------------------------------------------------


def silent_snapshot(*people: StakeholderPosition) -> AccountSnapshot:
    """A snapshot on day 200 with these people."""
    return create_snapshot({"it": 0.5}, people=people)


@pytest.mark.parametrize(
    ("last_day", "expected"),
    [(80, []), (80 - 1 / 86_400, ["warning"]), (21, ["warning"]), (20, ["critical"])],
)
def test_silent_decision_maker_at_its_thresholds(last_day: float, expected: list[str]) -> None:
    snapshot = silent_snapshot(create_person("cfo", "finance", 0.4, last_response_day=last_day))
    conditions = run("silent_stakeholder", snapshot)
    assert severities(conditions) == expected
    if conditions:
        assert conditions[0].key == "cfo"


def test_only_client_decision_makers_can_be_silent() -> None:
    snapshot = silent_snapshot(
        create_person("user", "end_user", 0.4, last_response_day=0),
        create_person("am", "executive_sponsor", 0.4, side="supplier", last_response_day=0),
        create_person("new", "unassigned", 0.4, last_response_day=0),
    )
    assert run("silent_stakeholder", snapshot) == []


def test_a_decision_maker_who_never_answered_is_silent_from_joining() -> None:
    never = create_person("cio", "it", None, last_response_day=None, known_since_day=79, decision_maker=True)
    (condition,) = run("silent_stakeholder", silent_snapshot(never))
    assert condition.summary == "cio (IT) has not answered since joining for 121 days"
    assert condition.positions == ()
    unknown = create_person("cio", "it", None, last_response_day=None, known_since_day=None, decision_maker=True)
    assert run("silent_stakeholder", silent_snapshot(unknown)) == []


def test_silence_counts_for_whoever_decides_not_for_a_role() -> None:
    # IT decides no renewal by default; a person's own flag says otherwise either way.
    assert run("silent_stakeholder", silent_snapshot(create_person("cio", "it", 0.4, last_response_day=50))) == []
    deciding_cio = create_person("cio", "it", 0.4, last_response_day=50, decision_maker=True)
    assert [c.key for c in run("silent_stakeholder", silent_snapshot(deciding_cio))] == ["cio"]
    bystander_cfo = create_person("cfo", "finance", 0.4, last_response_day=50, decision_maker=False)
    assert run("silent_stakeholder", silent_snapshot(bystander_cfo)) == []


def test_silent_summary_and_figures() -> None:
    (condition,) = run(
        "silent_stakeholder", silent_snapshot(create_person("cfo", "finance", 0.4, last_response_day=50))
    )
    assert condition.summary == "cfo (Finance) has not answered for 150 days"
    assert condition.metrics["silent_days"] == 150
    assert condition.metrics["last_response_at"] == at(50).isoformat()


# --- position_drop ------------------------------------------------------------------------------


def drop(amount: float, stakeholder_id: str = "cio", se: float = 0.0) -> PositionChange:
    """IT's lead fell by ``amount`` from +0.6 (measured exactly unless ``se`` says otherwise)."""
    return PositionChange(stakeholder_id, "it", 0.6, at(190), 0.6 - amount, 0.7, ("ev-drop",), se)


@pytest.mark.parametrize(
    ("amount", "held", "expected"),
    [
        (0.29, None, []),
        (0.3, None, ["warning"]),
        (0.6, None, ["critical"]),
        (0.15, "warning", ["warning"]),
        (0.14, "warning", []),
    ],
)
def test_position_drop_at_its_thresholds(amount: float, held: Severity | None, expected: list[str]) -> None:
    snapshot = create_snapshot({"it": 0.0}, drops=(drop(amount),))
    active = [] if held is None else [create_active("position_drop", held, key="cio")]
    assert severities(run("position_drop", snapshot, *active)) == expected


@pytest.mark.parametrize(
    ("amount", "se", "expected"),
    [
        (0.4, 0.05, ["warning"]),  # 0.4 - √2·0.05 = 0.33
        (0.4, 0.1, []),  # 0.26: within what two noisy readings may differ by
        (0.8, 0.1, ["critical"]),  # 0.66
        (1.5, math.inf, []),  # no measure of the noise: no evidence of a drop
    ],
)
def test_position_drop_is_graded_beyond_its_noise(amount: float, se: float, expected: list[str]) -> None:
    snapshot = create_snapshot({"it": 0.0}, drops=(drop(amount, se=se),))
    conditions = run("position_drop", snapshot)
    assert severities(conditions) == expected
    if conditions:
        assert conditions[0].metrics["drop_se"] == se


def test_position_drop_is_keyed_by_stakeholder() -> None:
    snapshot = create_snapshot({"it": 0.0}, drops=(drop(1.0, "b"), drop(0.4, "a")))
    conditions = run("position_drop", snapshot)
    assert [(c.key, c.severity) for c in conditions] == [("a", "warning"), ("b", "critical")]
    assert conditions[1].summary == "b (IT) fell from +0.60 to -0.40 (-1.00) within 30 days"
    assert conditions[1].evidence == ("ev-drop", "ev-trigger")


# --- alignment_restored -------------------------------------------------------------------------


@pytest.mark.parametrize(("gap", "expected"), [(0.24, ["info"]), (0.25, [])])
def test_alignment_restored_when_an_open_divergence_converges(gap: float, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.5 + gap, "it": 0.5})
    active = create_active("stakeholder_divergence", status=AlertStatus.ACKNOWLEDGED)
    assert severities(run("alignment_restored", snapshot, active)) == expected


def test_no_alignment_restored_without_a_divergence_alert_or_a_measurement() -> None:
    assert run("alignment_restored", create_snapshot({"procurement": 0.5, "it": 0.5})) == []
    unmeasured = create_snapshot({"procurement": 0.5})
    assert run("alignment_restored", unmeasured, create_active("stakeholder_divergence")) == []


@pytest.mark.parametrize(
    ("opened_day", "gap", "expected"),
    [(190, 0.39, ["info"]), (190, 0.4, []), (171, 0.1, ["info"]), (170, 0.1, [])],
)
def test_alignment_restored_holds_for_a_while_unless_a_split_reopens(
    opened_day: float, gap: float, expected: list[str]
) -> None:
    snapshot = create_snapshot({"procurement": 0.5 + gap, "it": 0.5})
    notice = create_active("alignment_restored", "info", opened_day=opened_day)
    assert severities(run("alignment_restored", snapshot, notice)) == expected


def test_alignment_restored_summary() -> None:
    snapshot = create_snapshot({"procurement": 0.6, "it": 0.4})
    (condition,) = run("alignment_restored", snapshot, create_active("stakeholder_divergence"))
    assert (
        condition.summary
        == "Procurement (+0.60) and IT (+0.40) are 0.20 apart, no more than 0.20 of it beyond the noise, below 0.25: "
        "the roles have converged again"
    )


# --- evaluate -----------------------------------------------------------------------------------


def test_evaluate_runs_every_rule_in_a_stable_order() -> None:
    assert set(RULES) == {
        "stakeholder_divergence",
        "divergence_widening",
        "masked_by_average",
        "renewal_risk",
        "perception_gap",
        "silent_stakeholder",
        "position_drop",
        "alignment_restored",
    }
    people = [
        create_person("procurement-1", "procurement", 0.8, last_response_day=200),
        create_person("finance-1", "finance", -0.2, last_response_day=10),
    ]
    snapshot = create_snapshot(
        {"procurement": 0.8, "finance": -0.2}, people=people, trend=0.6, risk=Risk(0.5, "test-model", FACTORS)
    )
    types = [c.type for c in evaluate(snapshot)]
    assert types == [
        "stakeholder_divergence",
        "divergence_widening",
        "masked_by_average",
        "renewal_risk",
        "silent_stakeholder",
    ]
    assert [c.type for c in evaluate(snapshot, types={"silent_stakeholder"})] == ["silent_stakeholder"]


def test_evaluate_is_deterministic() -> None:
    snapshot = create_snapshot(
        {"procurement": 0.8, "it": -0.2}, trend=0.6, renewal_date=renewal_on(250), risk=Risk(0.7, "m", FACTORS)
    )
    assert evaluate(snapshot) == evaluate(snapshot)


def test_a_condition_renders_as_the_alert_record_json() -> None:
    snapshot = create_snapshot(
        {"procurement": 0.8, "it": -0.2, "end_user": 0.45},
        renewal_date=renewal_on(250),
        risk=Risk(0.7, "test-model", FACTORS, "procurement"),
    )
    found_types = set()
    for found in evaluate(snapshot):
        found_types.add(found.type)
        record = found.as_dict()
        assert json.loads(json.dumps(record)) == record
        assert set(record) == {"type", "severity", "summary", "metrics", "positions", "evidence"}
    assert {"stakeholder_divergence", "renewal_risk"} <= found_types


def test_alignment_restored_holds_while_the_split_is_unmeasurable() -> None:
    snapshot = create_snapshot({"procurement": 0.9})
    notice = create_active("alignment_restored", "info", opened_day=190)
    (condition,) = run("alignment_restored", snapshot, notice)
    assert condition.summary == "The roles converged; no split has opened since"
    assert condition.evidence == ("ev-trigger",)
