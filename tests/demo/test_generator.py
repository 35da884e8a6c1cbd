"""The demo's seeded generator: deterministic, in its documented proportions, telling its stories."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest

from bench.demo.archetypes import ARCHETYPES, BY_NAME, action_day, sentiment, split_window
from bench.demo.generator import DECISION_ROLES, Portfolio, archetype_counts, generate
from shared.events import EVENT_ADAPTER

END = date(2026, 11, 30)


@cache
def portfolio(seed: int, accounts: int = 50) -> Portfolio:
    return generate(seed, end=END, accounts=accounts)


def test_the_same_seed_gives_the_same_events_and_another_seed_others() -> None:
    assert generate(13, end=END) == generate(13, end=END)
    assert generate(13, end=END).events != generate(14, end=END).events


def test_every_event_is_valid_unique_in_order_and_inside_the_year() -> None:
    events = portfolio(13).events
    assert len({e["event_id"] for e in events}) == len(events)
    times = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert times == sorted(times)
    start = datetime.combine(END - timedelta(days=365), datetime.min.time(), tzinfo=UTC)
    assert min(times) == start
    assert max(times) < datetime.combine(END + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    for event in events:
        EVENT_ADAPTER.validate_python(event)


@pytest.mark.parametrize("accounts", [1, 7, 10, 50, 51, 199])
def test_archetype_counts_follow_the_shares(accounts: int) -> None:
    counts = archetype_counts(accounts)
    assert sum(counts.values()) == accounts
    for archetype in ARCHETYPES:
        assert abs(counts[archetype.name] - archetype.share * accounts) < 1
    assert sum(a.share for a in ARCHETYPES) == pytest.approx(1)


def test_fifty_accounts_are_twenty_healthy_ten_unhappy_twelve_splitting_eight_recovering() -> None:
    assert Counter(a.archetype for a in portfolio(13).accounts) == {
        "aligned_healthy": 20,
        "aligned_unhappy": 10,
        "quietly_splitting": 12,
        "recovering": 8,
    }


def test_each_account_has_five_to_ten_client_stakeholders_with_every_decision_role() -> None:
    for plan in portfolio(13).accounts:
        client = [p for p in plan.people if p.side == "client"]
        assert 5 <= len(client) <= 10
        assert set(DECISION_ROLES) <= {p.role for p in client}
        assert [p.role for p in plan.people if p.side == "supplier"] == ["other"]


def test_each_account_renews_once_on_its_date_with_its_planned_outcome() -> None:
    events = portfolio(13).events
    for plan in portfolio(13).accounts:
        mine = [e for e in events if e["account_id"] == plan.account_id]
        outcomes = [e for e in mine if e.get("moment") == "renewal_outcome" and e["type"] == "journey_moment"]
        assert [e["attributes"] for e in outcomes] == [{"outcome": plan.outcome}]
        assert outcomes[0]["occurred_at"].startswith(plan.renewal.isoformat())
        low, high = BY_NAME[plan.archetype].renewal_days
        assert low <= plan.renewal_day <= high
        if plan.outcome == "churned":
            assert mine[-1] is outcomes[0], "a churned account goes quiet after its renewal"
        moments = {e["moment"] for e in mine if e["type"] == "journey_moment"}
        assert {"onboarding", "support_close", "renewal_approach"} <= moments


def test_outcomes_follow_the_story_with_noise() -> None:
    plans = [plan for seed in range(12) for plan in portfolio(seed).accounts]
    by_story: dict[str, Counter[str]] = {a.name: Counter() for a in ARCHETYPES}
    for plan in plans:
        by_story[plan.archetype][plan.outcome] += 1

    def bad_share(story: str) -> float:
        counts = by_story[story]
        return (counts["churned"] + counts["downsized"]) / sum(counts.values())

    assert bad_share("quietly_splitting") > 0.7
    assert 0.4 < bad_share("aligned_unhappy") < 0.8
    assert bad_share("aligned_healthy") < 0.2
    assert bad_share("recovering") < 0.3
    # A few surprises: healthy accounts that churn, splitting ones that renew.
    assert by_story["aligned_healthy"]["churned"] > 0
    assert by_story["quietly_splitting"]["renewed"] > 0


def nps_answers(plan_id: str, role: str, first_day: int, last_day: int, seed: int = 13) -> list[float]:
    """The NPS scores people of ``role`` gave between two days of the year."""
    p = portfolio(seed)
    people = {
        x.stakeholder_id for plan in p.accounts if plan.account_id == plan_id for x in plan.people if x.role == role
    }
    out = []
    for e in p.events:
        if e["type"] == "survey_response" and e["metric"] == "nps" and e["stakeholder_id"] in people:
            day = (datetime.fromisoformat(e["occurred_at"]) - p.start).days
            if first_day <= day <= last_day:
                out.append(e["score"])
    return out


def test_splitting_accounts_split_while_healthy_ones_stay_together() -> None:
    split_it, split_procurement, healthy = [], [], []
    for plan in portfolio(13).accounts:
        late = (plan.renewal_day - 60, plan.renewal_day)
        if plan.archetype == "quietly_splitting":
            split_it += nps_answers(plan.account_id, "it", *late)
            split_procurement += nps_answers(plan.account_id, "procurement", *late)
        if plan.archetype == "aligned_healthy":
            healthy += nps_answers(plan.account_id, "it", *late) + nps_answers(plan.account_id, "procurement", *late)
    assert statistics.mean(split_it) < 5
    assert statistics.mean(split_procurement) > 8.5
    assert statistics.mean(healthy) > 7.5


def test_the_story_paths() -> None:
    renewal = 300
    start, end = split_window(renewal)
    assert (start, end) == (30, 255)
    assert sentiment("quietly_splitting", "it", start, renewal) == 8.0
    assert sentiment("quietly_splitting", "it", end, renewal) == pytest.approx(3.2)
    assert sentiment("quietly_splitting", "procurement", end, renewal) == pytest.approx(9.6)
    assert sentiment("quietly_splitting", "finance", end, renewal) == sentiment(
        "quietly_splitting", "finance", 0, renewal
    )
    act = action_day(renewal)
    assert sentiment("recovering", "it", act, renewal) == pytest.approx(3.2)  # fully split when the supplier acts
    assert sentiment("recovering", "it", renewal - 45, renewal) == pytest.approx(7.8)  # and IT is back
    assert sentiment("recovering", "procurement", renewal, renewal) == pytest.approx(9.6)
    assert sentiment("aligned_unhappy", "finance", 365, renewal) == pytest.approx(5.1)
    assert sentiment("aligned_healthy", "it", 100, renewal) == 8.4


def test_the_survey_programme_cadence() -> None:
    p = portfolio(13)
    plan = next(a for a in p.accounts if a.outcome != "churned")
    per_person = Counter(
        (e["stakeholder_id"], e.get("source"))
        for e in p.events
        if e["type"] == "survey_response" and e["account_id"] == plan.account_id and e["metric"] == "nps"
    )
    for person in plan.people:
        if person.role in DECISION_ROLES:
            assert per_person[(person.stakeholder_id, "relationship")] <= 5  # quarterly
        elif person.side == "client":
            assert 6 <= per_person[(person.stakeholder_id, "pulse")] <= 13  # monthly, three in four answer
        else:
            assert per_person[(person.stakeholder_id, "self-assessment")] >= 3
