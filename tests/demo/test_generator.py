"""The demo's seeded generator: deterministic, in its documented proportions, telling its stories."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest

from bench.demo.archetypes import (
    ARCHETYPES,
    BY_NAME,
    DECISION_MAKERS,
    action_day,
    expected_bad_share,
    sentiment,
    silence_window,
    split_window,
)
from bench.demo.generator import DECISION_ROLES, AccountPlan, Person, Portfolio, archetype_counts, generate
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


def test_fifty_accounts_in_the_documented_counts() -> None:
    assert Counter(a.archetype for a in portfolio(13).accounts) == {
        "aligned_healthy": 21,
        "unhappy_it_person": 6,
        "aligned_unhappy": 5,
        "quietly_splitting": 5,
        "decision_makers_cooling": 4,
        "silent_decision_maker": 3,
        "recovering": 6,
    }


def test_about_thirty_percent_of_renewals_are_expected_to_go_badly() -> None:
    assert expected_bad_share() == pytest.approx(0.311)
    fifty = archetype_counts(50)
    bad = sum(n * (1 - dict(BY_NAME[name].outcome_odds)["renewed"]) for name, n in fifty.items())
    assert 14 <= bad <= 16


def test_each_account_has_five_to_ten_client_stakeholders_with_every_surveyed_role() -> None:
    for plan in portfolio(13).accounts:
        client = [p for p in plan.people if p.side == "client"]
        assert 5 <= len(client) <= 10
        assert set(DECISION_ROLES) <= {p.role for p in client}
        assert [p.role for p in plan.people if p.side == "supplier"] == ["other"]
    assert set(DECISION_MAKERS) == set(DECISION_ROLES) - {"it"}, "IT is surveyed quarterly but decides nothing"


def test_each_story_singles_out_the_people_it_is_about() -> None:
    for seed in range(6):
        for plan in portfolio(seed).accounts:
            chosen = [p.role for p in plan.people if p.singled_out]
            if plan.archetype == "unhappy_it_person":
                assert chosen == ["it"]
            elif plan.archetype == "decision_makers_cooling":
                assert chosen in (["procurement"], ["finance"], ["procurement", "finance"])
            elif plan.archetype == "silent_decision_maker":
                assert 1 <= len(chosen) <= 2
                assert set(chosen) <= set(DECISION_MAKERS)
            else:
                assert chosen == []


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

    assert 0.24 < sum(plan.outcome != "renewed" for plan in plans) / len(plans) < 0.36
    assert bad_share("quietly_splitting") > 0.7
    assert bad_share("decision_makers_cooling") > 0.4
    assert bad_share("silent_decision_maker") > 0.45
    assert 0.4 < bad_share("aligned_unhappy") < 0.8
    assert bad_share("aligned_healthy") < 0.2
    assert bad_share("unhappy_it_person") < 0.25  # the trap: it renews like a healthy account
    assert bad_share("recovering") < 0.3
    # A few surprises: healthy accounts that churn, splitting ones that renew.
    assert by_story["aligned_healthy"]["churned"] > 0
    assert by_story["quietly_splitting"]["renewed"] > 0


@cache
def client_nps(seed: int) -> dict[str, list[tuple[float, int]]]:
    """Every client person's NPS answers (day of the year, score), by stakeholder id."""
    p = portfolio(seed)
    out: dict[str, list[tuple[float, int]]] = {}
    for e in p.events:
        if e["type"] == "survey_response" and e["metric"] == "nps" and e.get("source") != "self-assessment":
            day = (datetime.fromisoformat(e["occurred_at"]) - p.start).total_seconds() / 86400
            out.setdefault(e["stakeholder_id"], []).append((day, e["score"]))
    return out


def answers_of(person: str, seed: int) -> list[tuple[float, int]]:
    return client_nps(seed).get(person, [])


def story(name: str, seeds: range = range(8)) -> list[tuple[int, AccountPlan]]:
    """The accounts of one story over several seeds, with their seed."""
    return [(seed, plan) for seed in seeds for plan in portfolio(seed).accounts if plan.archetype == name]


def scores(people: list[Person], seed: int, first_day: float, last_day: float) -> list[int]:
    return [s for p in people for day, s in answers_of(p.stakeholder_id, seed) if first_day <= day < last_day]


def test_splitting_accounts_split_while_healthy_ones_stay_together() -> None:
    split_it, split_procurement, healthy = [], [], []
    for seed, plan in story("quietly_splitting") + story("aligned_healthy"):
        late = (plan.renewal_day - 60, plan.renewal_day)
        it = [p for p in plan.people if p.role == "it"]
        procurement = [p for p in plan.people if p.role == "procurement"]
        if plan.archetype == "quietly_splitting":
            split_it += scores(it, seed, *late)
            split_procurement += scores(procurement, seed, *late)
        else:
            healthy += scores(it + procurement, seed, *late)
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
    assert sentiment("unhappy_it_person", "it", 100, renewal, singled_out=True) == 3.5
    assert sentiment("unhappy_it_person", "it", 100, renewal) == 8.4
    assert sentiment("decision_makers_cooling", "finance", start, renewal, singled_out=True) == 8.0
    assert sentiment("decision_makers_cooling", "finance", end, renewal, singled_out=True) == pytest.approx(4.2)
    assert sentiment("decision_makers_cooling", "it", end, renewal) == 8.8
    quiet_from, quiet_until = silence_window(renewal)
    assert (quiet_from, quiet_until) == (90, 240)
    assert sentiment("silent_decision_maker", "procurement", quiet_from, renewal, singled_out=True) == 8.0
    assert sentiment("silent_decision_maker", "procurement", quiet_until, renewal, singled_out=True) == 3.0
    assert sentiment("silent_decision_maker", "procurement", quiet_until, renewal) == 8.4


def test_the_survey_programme_cadence() -> None:
    p = portfolio(13)
    plan = next(a for a in p.accounts if a.outcome != "churned")
    per_person = Counter(
        (e["stakeholder_id"], e["metric"], e.get("source"))
        for e in p.events
        if e["type"] == "survey_response" and e["account_id"] == plan.account_id and "source" in e
    )
    for person in plan.people:
        if person.role in DECISION_ROLES:
            assert per_person[(person.stakeholder_id, "nps", "relationship")] <= 5  # quarterly
        elif person.side == "client":
            assert per_person[(person.stakeholder_id, "nps", "pulse")] <= 7  # every other month ...
            assert per_person[(person.stakeholder_id, "csat", "pulse")] <= 6  # ... and CSAT in between
        else:
            assert per_person[(person.stakeholder_id, "nps", "self-assessment")] >= 3


def test_about_two_in_three_answer_a_relationship_wave_some_nearly_always_some_rarely() -> None:
    people = [
        (seed, person)
        for seed in range(6)
        for plan in portfolio(seed).accounts
        if plan.archetype not in ("silent_decision_maker",) and plan.outcome != "churned"
        for person in plan.people
        if person.side == "client" and person.role in DECISION_ROLES
    ]
    propensities = [person.propensity for _, person in people]
    assert 0.6 < statistics.mean(propensities) < 0.7
    assert sum(x > 0.9 for x in propensities) / len(people) > 0.1
    assert sum(x < 0.3 for x in propensities) / len(people) > 0.07
    # A relationship wave is four times a year (five when the phase is early): the answers follow.
    answered = [len(answers_of(person.stakeholder_id, seed)) / 4.1 for seed, person in people]
    assert 0.55 < statistics.mean(answered) < 0.75


def test_each_answer_is_a_noisy_reading_about_one_nps_point_wide_with_rare_bad_days() -> None:
    residuals: list[float] = []
    for seed in range(5):
        for plan in portfolio(seed).accounts:
            for person in plan.people:
                for day, score in answers_of(person.stakeholder_id, seed):
                    mean = sentiment(plan.archetype, person.role, day, plan.renewal_day, person.singled_out)
                    if 2 <= mean + person.lean <= 8:  # far enough from 0 and 10 to be unclipped
                        residuals.append(score - mean - person.lean)
    assert len(residuals) > 1000
    middle = statistics.median(abs(r) for r in residuals) * 1.4826  # the sd a normal with this MAD has
    assert 0.9 < middle < 1.3
    assert 1.0 < statistics.stdev(residuals) < 1.45
    # Beyond 2.5 points below the mean: the normal tail (about 1%) plus the bad days (3%).
    assert 0.025 < sum(r < -2.5 for r in residuals) / len(residuals) < 0.07
    assert sum(r > 2.5 for r in residuals) / len(residuals) < 0.025


def test_a_silent_decision_maker_says_nothing_for_months_then_answers_badly_before_the_renewal() -> None:
    accounts = story("silent_decision_maker")
    assert len(accounts) >= 20
    before, late, others_in_silence = [], [], []
    for seed, plan in accounts:
        quiet_from, quiet_until = silence_window(plan.renewal_day)
        assert quiet_until - quiet_from == 150
        silent = [p for p in plan.people if p.singled_out]
        for person in silent:
            assert scores([person], seed, quiet_from, quiet_until) == [], f"{person.stakeholder_id} spoke"
            end_of_year = scores([person], seed, quiet_until, plan.renewal_day)
            assert end_of_year, f"{person.stakeholder_id} never came back"
            late += end_of_year
            before += scores([person], seed, 0, quiet_from)
        talking = [p for p in plan.people if p.role in DECISION_MAKERS and not p.singled_out]
        others_in_silence += scores(talking, seed, quiet_from, quiet_until)
    assert statistics.mean(late) < 4.5
    assert statistics.mean(before) > 7
    assert len(before) >= len(accounts)  # they used to answer
    assert statistics.mean(others_in_silence) > 7.5  # the other decision makers go on answering, content


def test_the_unhappy_it_person_is_unhappy_all_year_in_an_account_whose_decision_makers_are_content() -> None:
    it_person, makers, other_it = [], [], []
    for seed, plan in story("unhappy_it_person"):
        it_person += scores([p for p in plan.people if p.singled_out], seed, 0, 365)
        makers += scores([p for p in plan.people if p.role in DECISION_MAKERS], seed, 0, 365)
        other_it += scores([p for p in plan.people if p.role == "it" and not p.singled_out], seed, 0, 365)
    assert 2.5 < statistics.mean(it_person) < 4.5
    assert statistics.mean(makers) > 7.8
    assert statistics.mean(other_it) > 7.8


def test_cooling_decision_makers_drift_down_while_it_and_users_stay_happy_and_the_mean_green() -> None:
    early, late, warm, account_means = [], [], [], []
    for seed, plan in story("decision_makers_cooling", range(12)):
        start = split_window(plan.renewal_day)[0]
        cooling = [p for p in plan.people if p.singled_out]
        early += scores(cooling, seed, 0, start + 45)
        late += scores(cooling, seed, plan.renewal_day - 90, plan.renewal_day)
        happy = [p for p in plan.people if p.role in ("it", "end_user", "champion")]
        warm += scores(happy, seed, plan.renewal_day - 90, plan.renewal_day)
        everyone = scores([p for p in plan.people if p.side == "client"], seed, plan.renewal_day - 90, plan.renewal_day)
        account_means.append(statistics.mean(everyone))
    assert statistics.mean(early) > 7
    assert statistics.mean(late) < 5.5
    assert statistics.mean(warm) > 8.2
    assert statistics.mean(account_means) > 7.2  # green on average: the single score hides it
