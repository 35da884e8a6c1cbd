"""The alert state machine: opens once, escalates, de-escalates, resolves, never duplicates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.analyzer.model import ActiveAlert, AlertType, Condition, Severity, Transition, alert_id, transitions
from services.analyzer.model.alerts import ALERT_TYPES, AlertStatus
from tests.analyzer.model.factories import at, create_active


def condition(
    type_: AlertType = "stakeholder_divergence", severity: Severity = "warning", key: str | None = None
) -> Condition:
    """A found condition."""
    return Condition(type_, key, severity, f"{type_} {severity}")


def apply(active: list[ActiveAlert], result: list[Transition]) -> list[ActiveAlert]:
    """What the caller stores after the transitions: the alerts still active."""
    by_id = {a.alert_id: a for a in active}
    for t in result:
        if t.kind in ("resolve", "release"):
            by_id.pop(t.alert_id)
        elif t.kind in ("open", "update"):
            opened = by_id[t.alert_id].opened_as_of if t.alert_id in by_id else at(0)
            by_id[t.alert_id] = ActiveAlert(t.alert_id, t.type, t.key, t.severity, t.status, opened)
    return list(by_id.values())


def test_a_new_condition_opens_an_alert_with_a_stable_id() -> None:
    (t,) = transitions(account_id="acme", active=[], conditions=[condition()], trigger="ev-1")
    assert (t.kind, t.status, t.severity, t.delivered) == ("open", "open", "warning", True)
    assert t.alert_id == alert_id("acme", "stakeholder_divergence", None, "ev-1")
    assert t.alert_id.startswith("alr_")
    again = transitions(account_id="acme", active=[], conditions=[condition()], trigger="ev-1")
    assert again[0].alert_id == t.alert_id


def test_ids_differ_by_account_type_key_and_trigger() -> None:
    ids = {
        alert_id("acme", "position_drop", "a", "ev-1"),
        alert_id("acme", "position_drop", "b", "ev-1"),
        alert_id("acme", "position_drop", "a", "ev-2"),
        alert_id("other", "position_drop", "a", "ev-1"),
        alert_id("acme", "silent_stakeholder", "a", "ev-1"),
        alert_id("acme", "position_drop", None, "ev-1"),
    }
    assert len(ids) == 6


def test_an_unchanged_condition_is_not_sent_again() -> None:
    active = [create_active("stakeholder_divergence", "warning")]
    (t,) = transitions(account_id="acme", active=active, conditions=[condition()], trigger="ev-2")
    assert (t.kind, t.delivered, t.alert_id) == ("unchanged", False, active[0].alert_id)
    assert t.condition == condition()


def test_escalation_updates_and_reopens_an_acknowledged_alert() -> None:
    active = [create_active("stakeholder_divergence", "warning", status=AlertStatus.ACKNOWLEDGED)]
    (t,) = transitions(account_id="acme", active=active, conditions=[condition(severity="critical")], trigger="ev-2")
    assert (t.kind, t.severity, t.previous_severity, t.status) == ("update", "critical", "warning", "open")


def test_de_escalation_updates_and_keeps_the_acknowledgement() -> None:
    active = [create_active("stakeholder_divergence", "critical", status=AlertStatus.ACKNOWLEDGED)]
    (t,) = transitions(account_id="acme", active=active, conditions=[condition(severity="warning")], trigger="ev-2")
    assert (t.kind, t.severity, t.previous_severity, t.status) == ("update", "warning", "critical", "acknowledged")


@pytest.mark.parametrize("status", [AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED])
def test_a_cleared_condition_resolves(status: AlertStatus) -> None:
    active = [create_active("stakeholder_divergence", status=status)]
    (t,) = transitions(account_id="acme", active=active, conditions=[], trigger="ev-3")
    assert (t.kind, t.status, t.condition, t.delivered) == ("resolve", "resolved", None, True)


def test_an_alert_resolved_by_hand_stays_muted_until_its_condition_clears() -> None:
    muted = [create_active("stakeholder_divergence", "warning", status=AlertStatus.RESOLVED)]
    (held,) = transitions(account_id="acme", active=muted, conditions=[condition(severity="critical")], trigger="e")
    assert (held.kind, held.status, held.delivered) == ("unchanged", "resolved", False)
    (gone,) = transitions(account_id="acme", active=muted, conditions=[], trigger="e")
    assert (gone.kind, gone.delivered) == ("release", False)


def test_scope_limits_what_may_resolve_but_never_reopens_what_is_active() -> None:
    active = [create_active("stakeholder_divergence"), create_active("silent_stakeholder", key="cfo")]
    result = transitions(
        account_id="acme",
        active=active,
        conditions=[condition("silent_stakeholder", key="cfo")],
        trigger="sweep",
        scope={"silent_stakeholder"},
    )
    assert [(t.type, t.kind) for t in result] == [("silent_stakeholder", "unchanged")]
    swept = transitions(account_id="acme", active=active, conditions=[], trigger="sweep", scope={"silent_stakeholder"})
    assert [(t.type, t.kind) for t in swept] == [("silent_stakeholder", "resolve")]


def test_keys_make_separate_alerts() -> None:
    found = [condition("position_drop", key="b"), condition("position_drop", key="a")]
    result = transitions(
        account_id="acme", active=[create_active("position_drop", key="a")], conditions=found, trigger="e"
    )
    assert [(t.key, t.kind) for t in result] == [("a", "unchanged"), ("b", "open")]


def test_duplicate_conditions_or_alerts_are_refused() -> None:
    with pytest.raises(ValueError, match="conditions"):
        transitions(account_id="acme", active=[], conditions=[condition(), condition()], trigger="e")
    twice = [
        create_active("stakeholder_divergence", alert_id="x"),
        create_active("stakeholder_divergence", alert_id="y"),
    ]
    with pytest.raises(ValueError, match="active alerts"):
        transitions(account_id="acme", active=twice, conditions=[], trigger="e")


def test_transitions_come_in_alert_type_order() -> None:
    found = [condition(t) for t in reversed(ALERT_TYPES)]
    result = transitions(account_id="acme", active=[], conditions=found, trigger="e")
    assert [t.type for t in result] == list(ALERT_TYPES)


def test_a_full_episode() -> None:
    active: list[ActiveAlert] = []
    story = [
        ([condition(severity="warning")], ["open"]),
        ([condition(severity="warning")], ["unchanged"]),
        ([condition(severity="critical")], ["update"]),
        ([condition(severity="critical")], ["unchanged"]),
        ([condition(severity="warning")], ["update"]),
        ([], ["resolve"]),
        ([], []),
        ([condition(severity="warning")], ["open"]),
    ]
    opened: list[str] = []
    for step, (found, kinds) in enumerate(story):
        result = transitions(account_id="acme", active=active, conditions=found, trigger=f"ev-{step}")
        assert [t.kind for t in result] == kinds
        opened += [t.alert_id for t in result if t.kind == "open"]
        active = apply(active, result)
    assert len(set(opened)) == 2, "a new episode is a new alert, with its own id"


severity_sets = st.dictionaries(
    st.tuples(st.sampled_from(ALERT_TYPES), st.sampled_from([None, "a", "b"])),
    st.sampled_from(["info", "warning", "critical"]),
    max_size=6,
)


@given(before=severity_sets, after=severity_sets)
def test_re_evaluating_the_same_conditions_changes_nothing(
    before: dict[tuple[AlertType, str | None], Severity], after: dict[tuple[AlertType, str | None], Severity]
) -> None:
    first = [condition(t, s, k) for (t, k), s in before.items()]
    active = apply([], transitions(account_id="acme", active=[], conditions=first, trigger="ev-1"))
    second = [condition(t, s, k) for (t, k), s in after.items()]
    result = transitions(account_id="acme", active=active, conditions=second, trigger="ev-2")
    active = apply(active, result)
    # The stored alerts now mirror the conditions exactly, one per (type, key).
    assert {(a.type, a.key): a.severity for a in active} == after
    # Evaluating the same conditions again, by any trigger, delivers nothing and opens nothing.
    for trigger in ("ev-2", "ev-3"):
        again = transitions(account_id="acme", active=active, conditions=second, trigger=trigger)
        assert {t.kind for t in again} <= {"unchanged"}
