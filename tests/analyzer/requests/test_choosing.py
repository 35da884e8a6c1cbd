"""Whom to ask and what: the pure choice, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.analyzer.requests.choosing import (
    Person,
    Policy,
    RoleReading,
    Situation,
    choose,
    may_ask,
    open_alert_targets,
    role_measured,
)
from services.analyzer.requests.questions import moment_kind, suggest

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = Policy(min_interval=timedelta(days=30), weekly_cap=10, silent_after=timedelta(days=90), role_max_se=0.35)
MEASURED = RoleReading("role", confidence=0.9, se=0.2)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def measured(*roles: str) -> dict[str, RoleReading]:
    return {r: RoleReading(r, 0.9, 0.2) for r in roles}


def test_a_decision_maker_never_heard_or_silent_too_long_is_asked_and_one_heard_lately_is_not() -> None:
    people = [
        Person("never", "procurement", decision_maker=True),
        Person("silent", "finance", decision_maker=True, last_answer_at=ago(120)),
        Person("recent", "executive_sponsor", decision_maker=True, last_answer_at=ago(40)),
    ]
    roles = measured("procurement", "finance", "executive_sponsor")
    chosen = choose(Situation(NOW, people, roles=roles), POLICY)
    assert [(c.stakeholder_id, c.reason) for c in chosen] == [
        ("never", "decision_maker_unheard"),
        ("silent", "decision_maker_unheard"),
    ]
    assert chosen[1].detail == "decides the renewal and was last heard 120 days ago"


def test_not_contactable_supplier_side_pending_and_recently_contacted_people_are_never_asked() -> None:
    people = [
        Person("optout", "procurement", decision_maker=True, contactable=False),
        Person("supplier", "procurement", side="supplier", decision_maker=True),
        Person("waiting", "finance", decision_maker=True, pending=True),
        Person("asked", "finance", decision_maker=True, last_asked_at=ago(7)),
        Person("answered", "it", last_answer_at=ago(3)),
        Person("due", "finance", decision_maker=True, last_asked_at=ago(31)),
    ]
    chosen = choose(Situation(NOW, people), POLICY)
    assert [c.stakeholder_id for c in chosen] == ["due"]
    assert not may_ask(people[3], NOW, POLICY)
    assert may_ask(people[3], ago(-30), POLICY)  # thirty days on, they may be asked again


def test_the_weekly_cap_counts_the_requests_already_made_and_keeps_the_most_needed() -> None:
    people = [Person(f"end{i}", "end_user") for i in range(4)] + [Person("cfo", "finance", decision_maker=True)]
    policy = Policy(weekly_cap=3)
    chosen = choose(Situation(NOW, people), policy)
    assert len(chosen) == 3
    assert chosen[0].stakeholder_id == "cfo"
    assert len(choose(Situation(NOW, people, asked_this_week=2), policy)) == 1
    assert choose(Situation(NOW, people, asked_this_week=3), policy) == []


def test_roles_take_turns_so_one_large_role_does_not_use_up_the_cap() -> None:
    people = [Person(f"end{i}", "end_user") for i in range(5)] + [Person("ivy", "it"), Person("lea", "legal")]
    chosen = choose(Situation(NOW, people), Policy(weekly_cap=3))
    assert sorted(c.role for c in chosen) == ["end_user", "it", "legal"]
    assert {c.reason for c in chosen} == {"role_unmeasured"}


def test_a_role_counts_as_measured_only_when_confident_and_precise_enough() -> None:
    assert role_measured(MEASURED, POLICY)
    assert not role_measured(None, POLICY)
    assert not role_measured(RoleReading("it", confidence=0.1, se=0.2), POLICY)
    assert not role_measured(RoleReading("it", confidence=0.9, se=0.5), POLICY)
    assert not role_measured(RoleReading("it", confidence=0.9, se=float("inf")), POLICY)


def test_people_of_a_noisy_role_are_asked_and_those_of_a_measured_one_are_not() -> None:
    people = [Person("ivy", "it", last_answer_at=ago(60)), Person("eve", "end_user", last_answer_at=ago(60))]
    roles = {"it": RoleReading("it", 0.9, 0.5), "end_user": MEASURED}
    chosen = choose(Situation(NOW, people, roles=roles), POLICY)
    assert [(c.stakeholder_id, c.reason) for c in chosen] == [("ivy", "role_unmeasured")]


def test_open_alerts_name_people_and_the_roles_on_both_sides_of_a_divergence() -> None:
    alerts = [
        ("stakeholder_divergence", [{"role": "procurement", "position": -0.5}, {"role": "it", "position": 0.6}]),
        ("position_drop", [{"role": "finance", "position": -0.2, "stakeholder_id": "fay"}]),
        ("perception_gap", [{"role": "procurement", "position": 0.8, "side": "supplier"}]),
        ("renewal_risk", [{"role": "legal", "position": 0.1}]),
    ]
    people, roles = open_alert_targets(alerts)
    assert people == {"fay": "position_drop"}
    assert roles == {"procurement": "stakeholder_divergence", "it": "stakeholder_divergence"}

    everyone = [
        Person("pat", "procurement"),
        Person("ivy", "it"),
        Person("fay", "finance"),
        Person("dan", "finance", decision_maker=True),
        Person("lea", "legal"),
    ]
    situation = Situation(
        NOW, everyone, roles=measured("procurement", "it", "legal"), divergence_roles=roles, alert_people=people
    )
    chosen = {c.stakeholder_id: c.reason for c in choose(situation, POLICY)}
    # dan decides and was never heard: that reason comes first; lea's role is measured and no alert names her.
    assert chosen == {
        "dan": "decision_maker_unheard",
        "fay": "alert_subject",
        "pat": "divergence_side",
        "ivy": "divergence_side",
    }


def test_the_person_a_moment_is_about_comes_first_whatever_their_role() -> None:
    people = [Person("cfo", "finance", decision_maker=True), Person("req-1", "unassigned", last_answer_at=ago(45))]
    chosen = choose(Situation(NOW, people, participant="req-1"), Policy(weekly_cap=1))
    assert [(c.stakeholder_id, c.reason) for c in chosen] == [("req-1", "moment_participant")]


def test_questions_follow_the_moment() -> None:
    assert moment_kind("Support-Close") == "support"
    assert moment_kind("renewal_approach") == "renewal"
    assert moment_kind("onboarding_done") == "onboarding"
    assert moment_kind("qbr") == "other"
    support = suggest("support_close", renewal_near=True)
    assert [(q.kind, q.metric) for q in support] == [("transactional", "csat"), ("transactional", "ces")]
    renewal = suggest("renewal_approach", renewal_near=False, dimensions=["overall", "value", "ease"])
    assert [(q.metric, q.dimension) for q in renewal] == [("nps", None), ("nps", "value"), ("nps", "ease")]
    default_dimensions = suggest("qbr", renewal_near=True)
    assert [q.dimension for q in default_dimensions] == [None, "value", "support", "product"]
    assert [q.as_dict() for q in suggest("qbr", renewal_near=False)] == [
        {"kind": "relationship", "metric": "nps", "text": "How likely are you to recommend us to a colleague?"}
    ]
