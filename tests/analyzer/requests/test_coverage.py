"""Coverage of an account: who was heard and how recently, response rates by role and by moment (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.analyzer.requests.choosing import Person
from services.analyzer.requests.coverage import RequestFact, Tally, coverage

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_roles_decision_makers_and_moments_are_counted() -> None:
    people = [
        Person("pat", "procurement", decision_maker=True, last_answer_at=NOW - timedelta(days=10)),
        Person("fay", "finance", decision_maker=True, last_answer_at=NOW - timedelta(days=200), contactable=False),
        Person("ivy", "it", last_answer_at=NOW - timedelta(days=5)),
        Person("ian", "it"),
        Person("sup", "it", side="supplier", last_answer_at=NOW),
        Person("new", "unassigned"),
    ]
    requests = [
        RequestFact("it", "support_close", "fulfilled"),
        RequestFact("it", "support_close", "expired"),
        RequestFact("finance", "renewal_approach", "pending"),
        RequestFact("procurement", "renewal_approach", "fulfilled"),
    ]
    found = coverage(people, requests, now=NOW, heard_within=timedelta(days=90))
    roles = {r.role: r for r in found.roles}
    assert sorted(roles) == ["finance", "it", "procurement"]
    assert (roles["it"].people, roles["it"].heard) == (2, 1)
    assert roles["it"].last_heard_at == NOW - timedelta(days=5)
    assert roles["it"].requests == Tally(asked=2, fulfilled=1, expired=1, pending=0)
    assert roles["it"].requests.response_rate == 0.5
    assert roles["finance"].requests.response_rate is None  # only a pending one: nothing decided
    assert [(d.stakeholder_id, d.heard, d.contactable) for d in found.decision_makers] == [
        ("fay", False, False),
        ("pat", True, True),
    ]
    moments = dict(found.moments)
    assert moments["renewal_approach"].response_rate == 1.0
    assert found.requests == Tally(asked=4, fulfilled=2, expired=1, pending=1)


def test_an_account_nobody_was_asked_in_has_no_rates() -> None:
    found = coverage([Person("pat", "procurement")], [], now=NOW, heard_within=timedelta(days=90))
    assert found.requests.response_rate is None
    assert found.moments == ()
    assert found.roles[0].last_heard_at is None
