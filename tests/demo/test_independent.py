"""The independent backtest portfolio: deterministic, valid events, noisy answers, outcomes in proportion."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from functools import cache

from bench.backtest.independent import DECISION_ROLES, STORIES, IndependentPortfolio, generate
from shared.events import EVENT_ADAPTER

END = datetime(2026, 11, 30, tzinfo=UTC).date()


@cache
def portfolio(seed: int, accounts: int = 120) -> IndependentPortfolio:
    return generate(seed, end=END, accounts=accounts)


def day_of(p: IndependentPortfolio, event: dict[str, object]) -> int:
    return (datetime.fromisoformat(str(event["occurred_at"])) - p.start).days


def test_the_same_seed_gives_the_same_portfolio_and_another_seed_another() -> None:
    assert generate(7, end=END, accounts=20) == generate(7, end=END, accounts=20)
    assert generate(7, end=END, accounts=20).events != generate(8, end=END, accounts=20).events


def test_accounts_are_independent_of_how_many_there_are() -> None:
    small, large = generate(7, end=END, accounts=5), generate(7, end=END, accounts=10)
    assert large.accounts[:5] == small.accounts
    mine = {a.account_id for a in small.accounts}
    assert [e for e in large.events if e["account_id"] in mine] == list(small.events)


def test_every_event_is_valid_unique_in_order_and_inside_the_period() -> None:
    p = portfolio(1)
    events = p.events
    assert len({e["event_id"] for e in events}) == len(events)
    times = [datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert times == sorted(times)
    assert min(times) == p.start
    assert p.start <= datetime.combine(END - timedelta(days=450), time(), tzinfo=UTC)  # about 15 months
    assert max(times) < datetime.combine(END + timedelta(days=1), time(), tzinfo=UTC)
    for event in events:
        EVENT_ADAPTER.validate_python(event)
        assert event["event_id"].startswith(f"{event['account_id']}-")


def test_bad_renewals_are_twenty_to_forty_percent_and_every_story_is_told() -> None:
    p = portfolio(2, 600)
    outcomes = Counter(a.outcome for a in p.accounts)
    bad = (outcomes["downsized"] + outcomes["churned"]) / len(p.accounts)
    assert 0.2 < bad < 0.4
    assert outcomes["churned"] > 0
    assert outcomes["downsized"] > 0
    stories = Counter(a.story for a in p.accounts)
    assert set(stories) == set(STORIES)
    assert all(count >= 30 for count in stories.values())


def test_outcomes_follow_the_decision_makers_not_the_label() -> None:
    p = portfolio(2, 600)
    bad: dict[str, list[bool]] = defaultdict(list)
    for a in p.accounts:
        bad[a.story].append(a.outcome != "renewed")

    def share(story: str) -> float:
        return sum(bad[story]) / len(bad[story])

    assert share("split") > share("healthy") + 0.3
    assert share("unhappy_all") > share("healthy") + 0.3
    assert share("unhappy_it") < 0.25  # the trap: an unhappy IT person, a healthy renewal
    assert share("recovering") < share("split")
    assert share("healthy") > 0  # some surprises


def test_each_account_renews_once_on_its_date_and_a_churned_one_goes_quiet() -> None:
    p = portfolio(1)
    by_account: dict[str, list[dict[str, object]]] = defaultdict(list)
    for event in p.events:
        by_account[event["account_id"]].append(event)
    assert set(by_account) == {a.account_id for a in p.accounts}
    for plan in p.accounts:
        mine = by_account[plan.account_id]
        outcomes = [e for e in mine if e["type"] == "journey_moment" and e["moment"] == "renewal_outcome"]
        assert [e["attributes"] for e in outcomes] == [{"outcome": plan.outcome}]
        assert str(outcomes[0]["occurred_at"]).startswith(plan.renewal.isoformat())
        assert plan.renewal > (p.start + timedelta(days=180)).date()
        approach = [e for e in mine if e["type"] == "journey_moment" and e["moment"] == "renewal_approach"]
        assert [str(e["occurred_at"])[:10] for e in approach] == [(plan.renewal - timedelta(days=120)).isoformat()]
        if plan.outcome == "churned":
            assert mine[-1] is outcomes[0]
        account = next(e for e in mine if e["type"] == "account")
        assert account["renewal_date"] == plan.renewal.isoformat()


def test_each_account_has_three_decision_makers_three_to_five_others_and_an_account_manager() -> None:
    for plan in portfolio(1).accounts:
        people = [e for e in portfolio(1).events if e["type"] == "stakeholder" and e["account_id"] == plan.account_id]
        client = Counter(e["role"] for e in people if e["side"] == "client")
        assert all(client[role] == 1 for role in DECISION_ROLES)
        assert 3 <= sum(client.values()) - 3 <= 5
        assert 1 <= client["it"] <= 2
        assert 1 <= client["end_user"] <= 3
        assert [e["role"] for e in people if e["side"] == "supplier"] == ["other"]


def test_answers_lie_on_their_scales_and_tickets_are_rated_by_their_opener() -> None:
    p = portfolio(1)
    answers = [e for e in p.events if e["type"] == "survey_response"]
    metrics = Counter(e["metric"] for e in answers)
    assert metrics["nps"] > 0
    assert metrics["csat"] > 0
    for e in answers:
        assert isinstance(e["score"], int)
        low, high = (0, 10) if e["metric"] == "nps" else (1, 5)
        assert low <= e["score"] <= high
    openers = {
        e["attributes"]["ticket"]: e["stakeholder_id"]
        for e in p.events
        if e["type"] == "journey_moment" and e["moment"] == "support_close"
    }
    rated = [e for e in answers if "response_id" in e]
    assert 0.5 < len(rated) / len(openers) < 0.7
    for e in rated:
        assert e["dimension"] == "support"
        assert openers[e["response_id"]] == e["stakeholder_id"]
    supplier = [e["score"] for e in answers if e["stakeholder_id"].startswith("other")]
    assert supplier
    assert min(supplier) >= 8


def test_a_person_in_a_healthy_account_does_not_give_the_same_answer_every_time() -> None:
    p = portfolio(1)
    healthy = {a.account_id for a in p.accounts if a.story == "healthy"}
    scores: dict[str, list[int]] = defaultdict(list)
    for e in p.events:
        client = not e.get("stakeholder_id", "").startswith("other")
        if e["type"] == "survey_response" and e["metric"] == "nps" and e["account_id"] in healthy and client:
            scores[e["stakeholder_id"]].append(e["score"])
    spreads = [statistics.stdev(v) for v in scores.values() if len(v) >= 3]
    assert len(spreads) > 50
    assert statistics.mean(spreads) > 0.5
    assert 7 < statistics.mean(s for v in scores.values() for s in v) < 9


def nps_by_role(p: IndependentPortfolio, story: str, first: int, last: int) -> dict[str, list[int]]:
    """NPS answers in accounts of ``story``, from ``first`` to ``last`` days before each renewal, by role."""
    renewal = {a.account_id: a.renewal for a in p.accounts if a.story == story}
    out: dict[str, list[int]] = defaultdict(list)
    for e in p.events:
        if e["type"] == "survey_response" and e["metric"] == "nps" and e["account_id"] in renewal:
            before = (renewal[e["account_id"]] - datetime.fromisoformat(e["occurred_at"]).date()).days
            if last <= before <= first:
                out[e["stakeholder_id"].split("@")[0].rstrip("0123456789")].append(e["score"])
    return out


def test_split_accounts_stay_green_on_average_while_the_decision_makers_slide() -> None:
    late = nps_by_role(portfolio(2, 600), "split", 90, 1)
    deciders = [s for role in DECISION_ROLES for s in late[role]]
    users = late["it"] + late["end_user"] + late["champion"]
    assert statistics.mean(deciders) < 5.5
    assert statistics.mean(users) > 7.5
    # Both the IT person's and the deciders' complaints are real in the traps, but only one decides.
    unhappy_it = nps_by_role(portfolio(2, 600), "unhappy_it", 90, 1)
    assert statistics.mean(unhappy_it["it"]) < 6.5
    assert statistics.mean(s for role in DECISION_ROLES for s in unhappy_it[role]) > 7


def test_silent_decision_makers_come_back_late_and_unhappy() -> None:
    p = portfolio(2, 600)
    silent = {a.account_id: a.renewal for a in p.accounts if a.story == "silent_dm"}
    answers: dict[str, list[tuple[int, int]]] = defaultdict(list)  # person: (days before renewal, score)
    for e in p.events:
        if e["type"] == "survey_response" and e["account_id"] in silent and e["metric"] == "nps":
            role = e["stakeholder_id"].split("@")[0].rstrip("0123456789")
            if role in DECISION_ROLES:
                before = (silent[e["account_id"]] - datetime.fromisoformat(e["occurred_at"]).date()).days
                answers[e["stakeholder_id"]].append((before, e["score"]))
    came_back = [
        [score for before, score in mine if before < 60]
        for mine in answers.values()
        if not any(60 <= before < 140 for before, _ in mine) and any(before < 60 for before, _ in mine)
    ]
    assert len(came_back) > 0.6 * len(silent)
    assert statistics.mean(s for scores in came_back for s in scores) < 6
