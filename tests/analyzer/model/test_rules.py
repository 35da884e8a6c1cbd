"""Every alert rule on both sides of each of its thresholds, with hysteresis and severities."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from services.analyzer.model import (
    AccountSnapshot,
    ClassicScores,
    Condition,
    DimensionPositions,
    PositionChange,
    SidePosition,
    StakeholderPosition,
    Thresholds,
    evaluate,
)
from services.analyzer.model.alerts import ActiveAlert, AlertType, Severity
from services.analyzer.model.rules import RULES, classify
from services.analyzer.model.thresholds import grade
from tests.analyzer.model.factories import at, create_active, create_person, create_role, create_snapshot, renewal_on

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


@pytest.mark.parametrize(
    ("gap", "expected"), [(0.49, []), (0.5, ["warning"]), (0.79, ["warning"]), (0.8, ["critical"])]
)
def test_divergence_opens_at_its_thresholds(gap: float, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.1 + gap, "it": 0.1})
    assert severities(run("stakeholder_divergence", snapshot)) == expected


@pytest.mark.parametrize(
    ("gap", "held", "expected"),
    [
        (0.31, "warning", ["warning"]),
        (0.29, "warning", []),
        (0.71, "critical", ["critical"]),
        (0.69, "critical", ["warning"]),
    ],
)
def test_divergence_holds_down_to_its_clear_level(gap: float, held: Severity, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.1 + gap, "it": 0.1})
    active = create_active("stakeholder_divergence", held)
    assert severities(run("stakeholder_divergence", snapshot, active)) == expected


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


@pytest.mark.parametrize(
    ("trend", "held", "expected"),
    [
        (0.29, None, []),
        (0.3, None, ["warning"]),
        (0.5, None, ["critical"]),
        (0.16, "warning", ["warning"]),
        (0.14, "warning", []),
        (-0.4, None, []),
    ],
)
def test_widening_at_its_thresholds(trend: float, held: Severity | None, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.8, "it": 0.0}, trend=trend)
    active = [] if held is None else [create_active("divergence_widening", held)]
    assert severities(run("divergence_widening", snapshot, *active)) == expected


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


@pytest.mark.parametrize(("gap", "expected"), [(0.49, []), (0.5, ["warning"]), (0.8, ["critical"])])
def test_masked_by_average_needs_a_high_divergence(gap: float, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.5 + gap / 2, "it": 0.5 - gap / 2})
    assert severities(run("masked_by_average", snapshot)) == expected


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


# --- renewal_risk -------------------------------------------------------------------------------

RISKY = {"procurement": 0.8, "it": 0.2, "end_user": 0.5}  # gap 0.6 and IT on the detractor line


@pytest.mark.parametrize(("days_left", "inside"), [(-1, False), (0, True), (120, True), (121, False)])
def test_renewal_window_from_the_renewal_date(days_left: int, inside: bool) -> None:
    snapshot = create_snapshot(RISKY, renewal_date=renewal_on(200 + days_left))
    assert bool(run("renewal_risk", snapshot)) is inside


@pytest.mark.parametrize(("moment_day", "inside"), [(201, False), (200, True), (80, True), (79, False)])
def test_renewal_window_from_a_renewal_approach_moment(moment_day: int, inside: bool) -> None:
    snapshot = create_snapshot(RISKY, renewal_moment_at=at(moment_day))
    assert bool(run("renewal_risk", snapshot)) is inside


def test_a_renewal_outcome_closes_the_window() -> None:
    by_moment = create_snapshot(RISKY, renewal_moment_at=at(150), renewal_outcome_at=at(160))
    assert run("renewal_risk", by_moment) == []
    earlier_outcome = create_snapshot(RISKY, renewal_moment_at=at(150), renewal_outcome_at=at(100))
    assert run("renewal_risk", earlier_outcome) != []
    by_date = create_snapshot(RISKY, renewal_date=renewal_on(260), renewal_outcome_at=at(190))
    assert run("renewal_risk", by_date) == []
    last_cycle = create_snapshot(RISKY, renewal_date=renewal_on(260), renewal_outcome_at=at(100))
    assert run("renewal_risk", last_cycle) != []


def test_renewal_risk_from_divergence_alone() -> None:
    snapshot = create_snapshot({"procurement": 0.9, "it": 0.4}, renewal_date=renewal_on(260))
    (condition,) = run("renewal_risk", snapshot)
    assert condition.severity == "warning"
    assert condition.metrics["risk_reasons"] == ["divergence"]
    assert condition.metrics["divergence"] == 0.5
    assert condition.metrics["days_to_renewal"] == 60
    assert condition.summary == "Renewal in 60 days: Procurement (+0.90) and IT (+0.40) are 0.50 apart"


@pytest.mark.parametrize(("position", "fires"), [(0.2, True), (0.21, False)])
def test_renewal_risk_from_a_decision_maker_at_the_detractor_line(position: float, fires: bool) -> None:
    snapshot = create_snapshot({"finance": position, "it": 0.5}, renewal_date=renewal_on(260))
    conditions = run("renewal_risk", snapshot)
    assert bool(conditions) is fires
    if fires:
        assert conditions[0].metrics["detractor_roles"] == ["finance"]
        assert "Finance (+0.20) below the detractor line" in conditions[0].summary


def test_renewal_risk_ignores_non_decision_roles_and_unconfident_ones() -> None:
    roles = [create_role("end_user", 0.1), create_role("finance", -0.9, 0.2), create_role("it", 0.5)]
    assert run("renewal_risk", create_snapshot(roles, renewal_date=renewal_on(260))) == []


def test_renewal_risk_holds_a_detractor_with_the_margin() -> None:
    active = create_active("renewal_risk")
    held = create_snapshot({"finance": 0.3, "it": 0.5}, renewal_date=renewal_on(260))
    assert run("renewal_risk", held, active) != []
    cleared = create_snapshot({"finance": 0.31, "it": 0.5}, renewal_date=renewal_on(260))
    assert run("renewal_risk", cleared, active) == []


def test_renewal_risk_from_a_silent_decision_maker() -> None:
    people = [
        create_person("cfo", "finance", 0.6, last_response_day=50),
        create_person("it-1", "it", 0.5, last_response_day=200),
    ]
    snapshot = create_snapshot(
        [create_role("finance", 0.6), create_role("it", 0.5)], people=people, renewal_date=renewal_on(260)
    )
    (condition,) = run("renewal_risk", snapshot)
    assert condition.metrics["silent_stakeholders"] == ["cfo"]
    assert "silent: cfo (Finance, 150 days)" in condition.summary


def test_renewal_risk_is_critical_with_two_reasons_or_a_month_to_go() -> None:
    (two_reasons,) = run("renewal_risk", create_snapshot(RISKY, renewal_date=renewal_on(300)))
    assert two_reasons.severity == "critical"
    assert two_reasons.metrics["risk_reasons"] == ["divergence", "detractor"]
    one_reason = {"procurement": 0.9, "it": 0.4}
    (near,) = run("renewal_risk", create_snapshot(one_reason, renewal_date=renewal_on(230)))
    assert near.severity == "critical"
    (not_near,) = run("renewal_risk", create_snapshot(one_reason, renewal_date=renewal_on(231)))
    assert not_near.severity == "warning"


def test_no_renewal_risk_without_a_reason() -> None:
    snapshot = create_snapshot({"procurement": 0.6, "it": 0.5}, renewal_date=renewal_on(260))
    assert run("renewal_risk", snapshot) == []


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
    never = create_person("cio", "it", None, last_response_day=None, known_since_day=79)
    (condition,) = run("silent_stakeholder", silent_snapshot(never))
    assert condition.summary == "cio (IT) has not answered since joining for 121 days"
    assert condition.positions == ()
    unknown = create_person("cio", "it", None, last_response_day=None, known_since_day=None)
    assert run("silent_stakeholder", silent_snapshot(unknown)) == []


def test_silent_summary_and_figures() -> None:
    (condition,) = run(
        "silent_stakeholder", silent_snapshot(create_person("cfo", "finance", 0.4, last_response_day=50))
    )
    assert condition.summary == "cfo (Finance) has not answered for 150 days"
    assert condition.metrics["silent_days"] == 150
    assert condition.metrics["last_response_at"] == at(50).isoformat()


# --- position_drop ------------------------------------------------------------------------------


def drop(amount: float, stakeholder_id: str = "cio") -> PositionChange:
    """IT's lead fell by ``amount`` from +0.6."""
    return PositionChange(stakeholder_id, "it", 0.6, at(190), 0.6 - amount, 0.7, ("ev-drop",))


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


def test_position_drop_is_keyed_by_stakeholder() -> None:
    snapshot = create_snapshot({"it": 0.0}, drops=(drop(1.0, "b"), drop(0.4, "a")))
    conditions = run("position_drop", snapshot)
    assert [(c.key, c.severity) for c in conditions] == [("a", "warning"), ("b", "critical")]
    assert conditions[1].summary == "b (IT) fell from +0.60 to -0.40 (-1.00) within 30 days"
    assert conditions[1].evidence == ("ev-drop", "ev-trigger")


# --- alignment_restored -------------------------------------------------------------------------


@pytest.mark.parametrize(("gap", "expected"), [(0.29, ["info"]), (0.3, [])])
def test_alignment_restored_when_an_open_divergence_converges(gap: float, expected: list[str]) -> None:
    snapshot = create_snapshot({"procurement": 0.5 + gap, "it": 0.5})
    active = create_active("stakeholder_divergence", status="acknowledged")
    assert severities(run("alignment_restored", snapshot, active)) == expected


def test_no_alignment_restored_without_a_divergence_alert_or_a_measurement() -> None:
    assert run("alignment_restored", create_snapshot({"procurement": 0.5, "it": 0.5})) == []
    unmeasured = create_snapshot({"procurement": 0.5})
    assert run("alignment_restored", unmeasured, create_active("stakeholder_divergence")) == []


@pytest.mark.parametrize(
    ("opened_day", "gap", "expected"),
    [(190, 0.49, ["info"]), (190, 0.5, []), (171, 0.1, ["info"]), (170, 0.1, [])],
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
        == "Procurement (+0.60) and IT (+0.40) are 0.20 apart, below 0.30: the roles have converged again"
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
        create_person("it-1", "it", -0.2, last_response_day=10),
    ]
    snapshot = create_snapshot({"procurement": 0.8, "it": -0.2}, people=people, trend=0.6, renewal_date=renewal_on(250))
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
    snapshot = create_snapshot({"procurement": 0.8, "it": -0.2}, trend=0.6, renewal_date=renewal_on(250))
    assert evaluate(snapshot) == evaluate(snapshot)


def test_a_condition_renders_as_the_alert_record_json() -> None:
    snapshot = create_snapshot({"procurement": 0.8, "it": -0.2, "end_user": 0.45}, renewal_date=renewal_on(250))
    for found in evaluate(snapshot):
        record = found.as_dict()
        assert json.loads(json.dumps(record)) == record
        assert set(record) == {"type", "severity", "summary", "metrics", "positions", "evidence"}


def test_alignment_restored_holds_while_the_split_is_unmeasurable() -> None:
    snapshot = create_snapshot({"procurement": 0.9})
    notice = create_active("alignment_restored", "info", opened_day=190)
    (condition,) = run("alignment_restored", snapshot, notice)
    assert condition.summary == "The roles converged; no split has opened since"
    assert condition.evidence == ("ev-trigger",)
