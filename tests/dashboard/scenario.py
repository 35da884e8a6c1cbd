"""A small portfolio for the dashboard: the model's divided and aligned year, three smaller accounts,
and five whose renewal has already happened.

``northwind`` is the worked example of docs/model.md (procurement grows happier while IT sours, the
NPS rises), with journey moments and comments (``COMMENTS``); ``globex`` is the same survey programme
with people who agree.
The five ``PAST`` accounts renewed (or not) in the summer and autumn, each with a ``renewal_outcome``
moment, so the backtest page has renewals to score. Every event lies before ``CUT``, in the past,
so the default event-time window accepts them all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.analyzer.model import story

CUT = "2026-11-15T00:00:00+00:00"
DIVIDED = "northwind"
ALIGNED = "globex"
# Accounts whose renewal is behind them: (id, name, segment, annual value, renewal day, outcome, next
# renewal or None, and per person (role, monthly NPS answers from February, None: no answer)).
PAST: tuple[tuple[str, str, str, float, str, str, str | None, dict[str, tuple[str, list[int | None]]]], ...] = (
    (
        "stark",
        "Stark Industries",
        "mid-market",
        180_000,
        "2026-09-30",
        "churned",
        None,
        {
            "pepper": ("procurement", [8, 7, 6, 5, 4, 3, 3, 2]),
            "obadiah": ("finance", [7, 6, 5, 4, 3, 3, 2, 2]),
            "tony": ("executive_sponsor", [8, 8, 7, None, 5, None, 4, None]),
            "jarvis": ("it", [9, 9, 9, 9, 9, 9, 9, 9]),
        },
    ),
    (
        "cyberdyne",
        "Cyberdyne Systems",
        "enterprise",
        220_000,
        "2026-08-31",
        "downsized",
        "2027-08-31",
        {
            "miles": ("procurement", [9, 9, 9, 10, 9, 10, 9]),
            "sarah": ("it", [7, 6, 4, 3, 2, 2, 1]),
            "john": ("it", [8, 6, 5, 3, 3, 2, 2]),
            "kyle": ("finance", [8, None, None, None, None, None, None]),
        },
    ),
    (
        "wayne",
        "Wayne Enterprises",
        "enterprise",
        300_000,
        "2026-10-15",
        "renewed",
        "2027-10-15",
        {
            "lucius": ("procurement", [8, 9, 9, 8, 9, 9, 9, 9]),
            "alfred": ("finance", [9, 8, 9, 9, 8, 9, 9, 9]),
            "bruce": ("executive_sponsor", [9, None, 9, None, 9, None, 10, None]),
            "barbara": ("it", [8, 8, 9, 8, 8, 9, 8, 8]),
        },
    ),
    (
        "tyrell",
        "Tyrell Corporation",
        "mid-market",
        75_000,
        "2026-09-15",
        "renewed",
        "2027-09-15",
        {
            "rachael": ("procurement", [9, 10, 9, 10, 10, 9, 10]),
            "eldon": ("executive_sponsor", [9, 9, 9, 9, 9, 9, 9]),
            "roy": ("it", [6, 4, 3, 2, 2, 1, 2]),
            "pris": ("end_user", [5, 4, 3, 3, 2, 2, 2]),
        },
    ),
    (
        "soylent",
        "Soylent",
        "smb",
        40_000,
        "2026-07-31",
        "churned",
        None,
        {
            "thorn": ("procurement", [7, 6, 5, 5, 4]),
            "sol": ("end_user", [9, 9, 10, 9, 9]),
            "tab": ("end_user", [10, 9, 9, 10, 9]),
        },
    ),
)


# What the divided account's people write with their latest NPS answers (the last text with the latest
# answer): procurement and finance about price and value, IT about effort and support, an end user about ease.
COMMENTS: dict[str, tuple[str, ...]] = {
    "paula": (
        "The renewal discount made the pricing fair.",
        "Good value for the money, and the licence cost is predictable.",
    ),
    "frank": ("Invoices are clear and the budget holds.",),
    "ivan": (
        "Setting up SSO was painful and every integration needs manual workarounds.",
        "Our tickets wait for weeks; support never calls back.",
    ),
    "iris": ("The admin console is clunky and the sync breaks every week.",),
    "uma": ("The new reports are easy to use and save us hours every week.",),
}


def _with_comments(bodies: list[dict[str, Any]], account_id: str) -> list[dict[str, Any]]:
    """``bodies`` with ``COMMENTS`` on the latest NPS answers of their authors at ``account_id``."""
    chosen: dict[int, str] = {}
    for person, texts in COMMENTS.items():
        answers = sorted(
            (
                (_at(body), n)
                for n, body in enumerate(bodies)
                if body["type"] == "survey_response"
                and body["account_id"] == account_id
                and body["stakeholder_id"] == person
                and body["metric"] == "nps"
            ),
        )
        for (_, n), text in zip(reversed(answers), reversed(texts), strict=False):
            chosen[n] = text
    return [{**body, "comment": chosen[n]} if n in chosen else body for n, body in enumerate(bodies)]


def _account(account_id: str, name: str, segment: str, renewal: str, value: float) -> dict[str, Any]:
    return {
        "type": "account",
        "account_id": account_id,
        "occurred_at": "2026-01-01T00:00:00Z",
        "name": name,
        "segment": segment,
        "renewal_date": renewal,
        "annual_value": value,
    }


def _person(account_id: str, person: str, role: str, side: str = "client", influence: float = 1.0) -> dict[str, Any]:
    return {
        "type": "stakeholder",
        "account_id": account_id,
        "stakeholder_id": person,
        "occurred_at": "2026-01-01T00:00:00Z",
        "name": person.split("@")[0].title(),
        "role": role,
        "side": side,
        "influence": influence,
    }


def _answer(account_id: str, person: str, at: str, score: float, **extra: Any) -> dict[str, Any]:
    return {
        "type": "survey_response",
        "event_id": f"{account_id}-{person}-{at}-{extra.get('metric', 'nps')}",
        "account_id": account_id,
        "stakeholder_id": person,
        "occurred_at": at,
        "metric": "nps",
        "score": score,
        **extra,
    }


def _moment(account_id: str, moment: str, at: str, person: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "journey_moment",
        "event_id": f"{account_id}-{moment}-{at}",
        "account_id": account_id,
        "occurred_at": at,
        "moment": moment,
    }
    if person:
        body["stakeholder_id"] = person
    return body


def _story(account_id: str, events: list[story.Event]) -> list[dict[str, Any]]:
    out = [_person(account_id, p, i.role, i.side, i.influence) for p, i in story.PEOPLE.items()]
    for event in events:
        at = event.at.isoformat()
        if event.kind == "answer":
            extra: dict[str, Any] = {"metric": event.metric}
            if event.dimension:
                extra["dimension"] = event.dimension
            out.append(_answer(account_id, event.stakeholder_id, at, event.score, **extra))
        elif event.kind in ("renewal_approach", "renewal_outcome"):
            out.append(_moment(account_id, event.kind, at))
    return out


def events() -> list[dict[str, Any]]:
    """Every event of the portfolio, directory first, all before ``CUT``."""
    start = story.START.isoformat()
    out = [
        _account(DIVIDED, "Northwind Logistics", "enterprise", story.RENEWAL.isoformat(), 480_000),
        _account(ALIGNED, "Globex", "enterprise", "2027-05-15", 260_000),
        _account("initech", "Initech", "mid-market", "2027-01-10", 95_000),
        _account("umbrella", "Umbrella Health", "smb", "2026-12-20", 42_000),
        _account("hooli", "Hooli", "smb", "2027-09-01", 150_000),
        _moment(DIVIDED, "onboarding", start),
        _moment(DIVIDED, "support_close", story.day(119).isoformat(), "ivan"),
        _moment(DIVIDED, "support_close", story.day(199).isoformat(), "iris"),
        _moment(DIVIDED, "qbr", story.day(170).isoformat()),
        _moment(ALIGNED, "onboarding", start),
    ]
    out += _story(DIVIDED, story.divided_events()) + _story(ALIGNED, story.aligned_events())
    out += [
        _person("initech", "peter", "procurement"),
        _person("initech", "milton", "it"),
        _person("initech", "bill", "executive_sponsor"),
        _answer("initech", "peter", "2026-08-03T10:00:00Z", 9),
        _answer("initech", "milton", "2026-08-04T10:00:00Z", 6),
        _answer("initech", "bill", "2026-08-05T10:00:00Z", 8),
        _answer("initech", "milton", "2026-10-05T10:00:00Z", 5),
        _person("umbrella", "alice", "finance"),
        _person("umbrella", "carlos", "end_user"),
        _answer("umbrella", "alice", "2026-09-01T10:00:00Z", 3),
        _answer("umbrella", "carlos", "2026-09-02T10:00:00Z", 9),
        _answer("umbrella", "alice", "2026-10-20T10:00:00Z", 2),
        _answer("umbrella", "carlos", "2026-10-21T10:00:00Z", 10),
    ]
    for account_id, name, segment, value, renewal, outcome, renewed_to, people in PAST:
        out += _past(account_id, name, segment, value, renewal, outcome, renewed_to, people)
    cut = datetime.fromisoformat(CUT)
    return _with_comments([e for e in out if _at(e) < cut], DIVIDED)


def _past(
    account_id: str,
    name: str,
    segment: str,
    value: float,
    renewal: str,
    outcome: str,
    renewed_to: str | None,
    people: dict[str, tuple[str, list[int | None]]],
) -> list[dict[str, Any]]:
    """An account surveyed monthly from February up to its renewal, then its outcome (and next renewal)."""
    out = [_account(account_id, name, segment, renewal, value)]
    for n, (person, (role, scores)) in enumerate(sorted(people.items())):
        out.append(_person(account_id, person, role))
        out += [
            _answer(account_id, person, f"2026-{month + 2:02d}-{10 + n:02d}T10:00:00Z", score)
            for month, score in enumerate(scores)
            if score is not None
        ]
    moment = _moment(account_id, "renewal_outcome", f"{renewal}T12:00:00Z")
    out.append({**moment, "attributes": {"outcome": outcome}})
    if renewed_to is not None:
        out.append({**_account(account_id, name, segment, renewed_to, value), "occurred_at": f"{renewal}T13:00:00Z"})
    return out


def _at(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00")).astimezone(UTC)


def by_month(bodies: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The events in time order, one list per calendar month (at most 500 each, ingest's batch limit)."""
    months: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for event in sorted(bodies, key=lambda e: (_at(e), e["type"] not in ("account", "stakeholder"))):
        at = _at(event)
        months.setdefault((at.year, at.month), []).append(event)
    return [month[start : start + 500] for _, month in sorted(months.items()) for start in range(0, len(month), 500)]
