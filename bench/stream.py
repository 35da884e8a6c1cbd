"""A seeded, realistic event stream for the benchmarks: directory first, then a year of answers.

Each account has 5 to 12 stakeholders with roles (one of them on the supplier side), answers NPS,
CSAT or CES at a monthly-ish rhythm, and sees journey moments (onboarding, support closes, a QBR,
renewal approach). The same seed always gives the same events in the same order.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.limits import DEFAULT_SCALE_BOUNDS

ROLES = ("procurement", "it", "finance", "end_user", "executive_sponsor", "champion", "legal")
START = datetime(2025, 11, 1, tzinfo=UTC)
YEAR = timedelta(days=365)


def _at(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def directory(rng: random.Random, account_id: str) -> list[dict[str, Any]]:
    """The account and its 5 to 12 stakeholders, dated at the start of the year."""
    renewal = (START + YEAR + timedelta(days=rng.randint(0, 180))).date()
    events: list[dict[str, Any]] = [
        {
            "type": "account",
            "event_id": f"{account_id}:account",
            "account_id": account_id,
            "occurred_at": _at(START),
            "name": account_id.title(),
            "segment": rng.choice(["enterprise", "mid-market", "smb"]),
            "renewal_date": renewal.isoformat(),
            "annual_value": rng.randint(10, 500) * 1000,
        },
    ]
    for index in range(rng.randint(5, 12)):
        events.append(
            {
                "type": "stakeholder",
                "event_id": f"{account_id}:person:{index}",
                "account_id": account_id,
                "stakeholder_id": f"{account_id}-p{index}@example.com",
                "occurred_at": _at(START),
                "role": ROLES[index % len(ROLES)],
                "side": "supplier" if index == 0 else "client",
            },
        )
    return events


def answers(
    rng: random.Random,
    account_id: str,
    people: list[str],
    count: int,
    *,
    start: datetime = START,
    span: timedelta = YEAR,
) -> list[dict[str, Any]]:
    """``count`` answers spread over ``span`` from ``start`` (the year); each person drifts up or down."""
    drift = {person: rng.uniform(-3, 3) for person in people}
    events = []
    for index in range(count):
        person = rng.choice(people)
        fraction = rng.random()
        when = start + timedelta(seconds=int(fraction * span.total_seconds()))
        metric = rng.choice(["nps", "nps", "csat", "ces"])
        base = {"nps": 7.0, "csat": 3.5, "ces": 2.5}[metric]
        spread = {"nps": 10, "csat": 4, "ces": 4}[metric]
        low, high = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 5)}[metric]
        score = round(min(high, max(low, base + drift[person] * fraction * spread / 10 + rng.gauss(0, 1))))
        events.append(
            {
                "type": "survey_response",
                "event_id": f"{account_id}:answer:{index}",
                "account_id": account_id,
                "stakeholder_id": person,
                "occurred_at": _at(when),
                "metric": metric,
                "score": score,
                "dimension": rng.choice(["overall", "value", "support", "ease"]),
            },
        )
    return events


def moments(rng: random.Random, account_id: str, renewal: date) -> list[dict[str, Any]]:
    """Onboarding, a few support closes, a QBR and the approach of renewal."""
    events = []
    labels = ["onboarding", "support_close", "support_close", "qbr", "renewal_approach"]
    for index, label in enumerate(labels):
        when = START + timedelta(days=rng.randint(1, 360))
        events.append(
            {
                "type": "journey_moment",
                "event_id": f"{account_id}:moment:{index}",
                "account_id": account_id,
                "occurred_at": _at(when),
                "moment": label,
                "attributes": {"renewal_date": renewal.isoformat()} if label == "renewal_approach" else {},
            },
        )
    return events


def stream(*, events: int, accounts: int, seed: int = 7) -> list[dict[str, Any]]:
    """About ``events`` events over ``accounts`` accounts: every directory event first, then the
    answers and moments of all accounts in time order, as a live feed would deliver them."""
    rng = random.Random(seed)
    head: list[dict[str, Any]] = []
    tail: list[dict[str, Any]] = []
    per_account = max(1, events // accounts)
    for number in range(accounts):
        account_id = f"acct-{number:05d}"
        people = directory(rng, account_id)
        head += people
        persons = [e["stakeholder_id"] for e in people if e["type"] == "stakeholder"]
        renewal = date.fromisoformat(people[0]["renewal_date"])
        extra = moments(rng, account_id, renewal)
        tail += extra
        tail += answers(rng, account_id, persons, max(1, per_account - len(people) - len(extra)))
    tail.sort(key=lambda e: e["occurred_at"])
    return head + tail


def history(account_id: str, count: int, *, seed: int = 11) -> list[dict[str, Any]]:
    """One account with eight people and ``count`` answers: for the cost of a long history."""
    rng = random.Random(seed)
    people = directory(rng, account_id)[:9]
    persons = [e["stakeholder_id"] for e in people if e["type"] == "stakeholder"]
    body = answers(rng, account_id, persons, count)
    body.sort(key=lambda e: e["occurred_at"])
    return people + body


def history_tail(account_id: str, count: int, *, days: int = 30, seed: int = 11) -> list[dict[str, Any]]:
    """``count`` more answers to ``history``'s account by its eight people, over the ``days`` after its year.

    The same answers on the same days whatever the history held, so that two measurements differ in
    the history only: the analyzer evaluates the rules once per account and day with events, so a tail
    spread over more days costs more whatever came before it.
    """
    people = directory(random.Random(seed), account_id)[:9]
    persons = [e["stakeholder_id"] for e in people if e["type"] == "stakeholder"]
    tail = answers(random.Random(seed + 1), account_id, persons, count, start=START + YEAR, span=timedelta(days=days))
    for event in tail:
        event["event_id"] = event["event_id"].replace(":answer:", ":tail:")
    tail.sort(key=lambda e: e["occurred_at"])
    return tail


def sample_events(count: int) -> list[dict[str, Any]]:
    """``count`` distinct survey answers as a client posts them (ids given, yesterday's times)."""
    when = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    metrics = [(metric, int(low), int(high)) for metric, (low, high, _) in DEFAULT_SCALE_BOUNDS.items()]
    events = []
    for index in range(count):
        metric, low, high = metrics[index % len(metrics)]
        events.append(
            {
                "type": "survey_response",
                "event_id": f"bench-{uuid.uuid4().hex}",
                "account_id": f"acct-{index % 500:04d}",
                "stakeholder_id": f"person-{index % 4000:05d}@example.com",
                "metric": metric,
                "score": low + index % (high - low + 1),
                "dimension": ("support", "product", "value", "relationship")[index % 4],
                "moment": "support_close",
                "occurred_at": (when + timedelta(seconds=index % 3600)).isoformat().replace("+00:00", "Z"),
                "comment": "Quick answer, the second line fixed it the same day.",
            },
        )
    return events
