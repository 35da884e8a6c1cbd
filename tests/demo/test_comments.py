"""The demo's comments: by story and role, in the tone of the score, with noise, and never moving a score."""

from __future__ import annotations

from collections import Counter
from datetime import date
from functools import cache

from bench.demo.comments import SPLIT_STORIES
from bench.demo.generator import Portfolio, generate
from services.analyzer.verbatims.classify import classify

END = date(2026, 11, 30)


@cache
def portfolio(seed: int, *, comments: bool = True) -> Portfolio:
    return generate(seed, end=END, accounts=50, comments=comments)


def test_comments_change_no_event_but_add_their_own_field() -> None:
    for seed in (1, 13):
        with_comments = portfolio(seed).events
        stripped = tuple({k: v for k, v in e.items() if k != "comment"} for e in with_comments)
        assert stripped == portfolio(seed, comments=False).events
        assert sum("comment" in e for e in with_comments) > 100
    assert generate(13, end=END) == generate(13, end=END)


def _themes_by_side(seed: int) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Theme counts of the splitting stories' decision makers, of their IT, and of everyone else."""
    plans = {p.account_id: p for p in portfolio(seed).accounts}
    roles = {(p.account_id, s.stakeholder_id): s.role for p in plans.values() for s in p.people}
    deciders: Counter[str] = Counter()
    it: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for event in portfolio(seed).events:
        if "comment" not in event or event.get("source") != "relationship":
            continue
        role = roles[(event["account_id"], event["stakeholder_id"])]
        split = plans[event["account_id"]].archetype in SPLIT_STORIES
        themes = classify(event["comment"]).theme_keys or ("(none)",)
        target = deciders if split and role != "it" else it if split else others
        target.update(themes)
    return deciders, it, others


def test_splitting_accounts_decision_makers_write_about_price_and_value_and_it_about_effort() -> None:
    deciders, it, others = _themes_by_side(13)
    money = deciders["price"] + deciders["value"]
    assert money > 0.6 * sum(deciders.values())
    assert it.most_common(1)[0][0] == "effort"
    assert it["effort"] > 0.5 * sum(it.values())
    # Elsewhere no theme dominates: the story is what makes the themes differ.
    assert others.most_common(1)[0][1] < 0.3 * sum(others.values())
    # Noise: comments with no theme, and comments with two.
    assert deciders["(none)"] + it["(none)"] > 0
    mixed = [e for e in portfolio(13).events if "comment" in e and len(classify(e["comment"]).theme_keys) > 1]
    assert len(mixed) > 10


def test_the_tone_follows_the_score() -> None:
    tones: dict[str, Counter[str]] = {"low": Counter(), "high": Counter()}
    for event in portfolio(13).events:
        if "comment" in event and event["metric"] == "nps" and (event["score"] <= 4 or event["score"] >= 9):
            tones["low" if event["score"] <= 4 else "high"][classify(event["comment"]).sentiment] += 1
    assert tones["low"]["negative"] > 2 * tones["low"]["positive"]
    assert tones["high"]["positive"] > 2 * tones["high"]["negative"]
