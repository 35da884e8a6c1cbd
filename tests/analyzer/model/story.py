"""A year of two B2B accounts, run through the model the way the analyzer does, event by event.

``divided``: procurement grows happier while IT sours, finance falls silent, the supplier's account
team rates its support highly while IT's tickets say otherwise; the account NPS rises all the while.
After a renegotiated renewal the supplier fixes IT's problems and the roles converge. ``aligned``:
the same people and survey programme, with people who agree.

Run ``python -m tests.analyzer.model.story`` to print the tables quoted in docs/model.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from services.analyzer.model import ActiveAlert, Transition, evaluate, normalise_answer, transitions
from services.analyzer.model.normalise import Metric
from tests.analyzer.model.ledger import AccountLedger, Person

START = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
RENEWAL = date(2027, 2, 1)
END = datetime(2027, 6, 30, 9, 0, tzinfo=UTC)
PEOPLE = {
    "paula": Person("procurement"),
    "ivan": Person("it"),
    "iris": Person("it"),
    "frank": Person("finance"),
    "eve": Person("executive_sponsor", influence=1.5),
    "uma": Person("end_user"),
    "ulf": Person("end_user"),
    "una": Person("end_user"),
    "sam": Person("other", side="supplier"),
}
# The quarterly relationship survey (NPS) to decision-makers, every 12 weeks from week 0; None: no answer.
DIVIDED_QUARTERLY: dict[str, list[int | None]] = {
    "paula": [6, 8, 9, 9, 10, 9, 9],
    "ivan": [8, 7, 6, 4, 3, 8, 9],
    "iris": [8, 7, 7, 5, 3, 8, 9],
    "frank": [7, 8, 8, None, None, 8, 8],  # silent through the second half of the year
    "eve": [8, 8, 8, 9, 9, 9, 9],
}
# The monthly pulse (NPS) to end users, every 4 weeks.
DIVIDED_PULSE: dict[str, list[int | None]] = {"uma": [8] * 20, "ulf": [9] * 20, "una": [*[7] * 9, *[9] * 11]}
ALIGNED_QUARTERLY: dict[str, list[int | None]] = {
    "paula": [8, 8, 8, 9, 8, 8, 9],
    "ivan": [8, 7, 8, 8, 8, 8, 8],
    "iris": [8, 8, 7, 8, 8, 9, 8],
    "frank": [7, 8, 8, 8, 8, 8, 8],
    "eve": [9, 9, 8, 9, 9, 9, 9],
}
ALIGNED_PULSE: dict[str, list[int | None]] = {"uma": [8] * 20, "ulf": [9] * 20, "una": [8] * 20}


@dataclass(frozen=True)
class Event:
    """One input of the story: an answer, a journey moment, or a weekly wall-clock sweep."""

    at: datetime
    kind: Literal["answer", "renewal_approach", "renewal_outcome", "sweep"]
    event_id: str
    stakeholder_id: str = ""
    metric: Metric = "nps"
    score: float = 0.0
    dimension: str | None = None


@dataclass(frozen=True)
class Entry:
    """One delivered alert change, with the figures of the moment."""

    at: datetime
    transition: Transition
    nps: float | None
    account_mean: float | None
    divergence: float | None
    # The divergence's lower bound (gap - z·se, what the divergence rules grade) and the renewal risk.
    lower: float | None = None
    risk: float | None = None


@dataclass
class Story:
    """The account's ledger, its active alerts and what was delivered."""

    ledger: AccountLedger
    active: dict[str, ActiveAlert] = field(default_factory=dict)
    log: list[Entry] = field(default_factory=list)
    renewal_moment_at: datetime | None = None
    renewal_outcome_at: datetime | None = None
    as_of: datetime = START


def day(n: float) -> datetime:
    """The story's start plus ``n`` days."""
    return START + timedelta(days=n)


def answer(at: datetime, person: str, metric: Metric, score: float, dimension: str | None = None) -> Event:
    """A survey answer (its event id says who, what and when)."""
    return Event(at, "answer", f"{metric}-{person}-{at.date()}", person, metric, score, dimension)


def _programme(quarterly: dict[str, list[int | None]], pulse: dict[str, list[int | None]]) -> list[Event]:
    events = []
    for period, plan in ((84, quarterly), (28, pulse)):
        for offset, (person, scores) in enumerate(sorted(plan.items())):
            # People answer over the first days of a survey, not all at the same instant.
            events += [
                answer(day(period * n + offset), person, "nps", s) for n, s in enumerate(scores) if s is not None
            ]
    return events


def divided_events() -> list[Event]:
    """The divided account's year and its epilogue."""
    events = _programme(DIVIDED_QUARTERLY, DIVIDED_PULSE)
    # IT's support tickets: closed, and rated (CSAT on support).
    events += [answer(day(120), "ivan", "csat", 2, "support"), answer(day(200), "iris", "csat", 1, "support")]
    # The supplier's account manager rates the relationship and the support each quarter.
    for q in range(5):
        events += [answer(day(84 * q + 3), "sam", "nps", 9), answer(day(84 * q + 3), "sam", "csat", 5, "support")]
    events.append(Event(datetime(2026, 11, 2, 9, tzinfo=UTC), "renewal_approach", "moment-renewal-approach"))
    events.append(Event(datetime(2027, 2, 1, 9, tzinfo=UTC), "renewal_outcome", "moment-renewed"))
    # Epilogue: the renegotiated contract funds IT's fixes, and IT says so at monthly check-ins.
    for n, score in enumerate([8, 9, 9]):
        at = datetime(2027, 2, 15, 9, tzinfo=UTC) + timedelta(days=28 * n)
        events += [answer(at, "ivan", "nps", score), answer(at + timedelta(days=1), "iris", "nps", score)]
    return _with_sweeps(events)


def aligned_events() -> list[Event]:
    """The same programme for an account whose people agree, and a supplier that rates itself fairly."""
    events = _programme(ALIGNED_QUARTERLY, ALIGNED_PULSE)
    events += [answer(day(120), "ivan", "csat", 4, "support"), answer(day(200), "iris", "csat", 4, "support")]
    for q in range(5):
        events += [answer(day(84 * q + 3), "sam", "nps", 8), answer(day(84 * q + 3), "sam", "csat", 4, "support")]
    events.append(Event(datetime(2026, 11, 2, 9, tzinfo=UTC), "renewal_approach", "moment-renewal-approach"))
    events.append(Event(datetime(2027, 2, 1, 9, tzinfo=UTC), "renewal_outcome", "moment-renewed"))
    return _with_sweeps(events)


def _with_sweeps(events: list[Event]) -> list[Event]:
    weeks = (END - START) // timedelta(weeks=1)
    sweeps = [Event(START + timedelta(weeks=w, days=6), "sweep", f"sweep-{w}") for w in range(weeks + 1)]
    return sorted(events + sweeps, key=lambda e: (e.at, e.event_id))


def run(events: list[Event], *, until: datetime = END, people: Mapping[str, Person] = PEOPLE) -> Story:
    """Process the events in order, evaluating every rule after each one (``people``: the directory)."""
    story = Story(AccountLedger("acme", dict(people)))
    for event in events:
        if event.at > until:
            break
        story.as_of = max(story.as_of, event.at)  # the account's clock never runs backwards
        if event.kind == "answer":
            story.ledger.answer(
                response_id=event.event_id,
                stakeholder_id=event.stakeholder_id,
                value=normalise_answer(event.metric, event.score),
                at=event.at,
                event_id=event.event_id,
                dimension=event.dimension,
                metric=event.metric,
                score=event.score,
            )
        elif event.kind == "renewal_approach":
            story.renewal_moment_at = event.at
        elif event.kind == "renewal_outcome":
            story.renewal_outcome_at = event.at
        _evaluate(story, event)
    return story


def _evaluate(story: Story, event: Event) -> None:
    snapshot = story.ledger.snapshot(
        story.as_of,
        renewal_date=RENEWAL,
        renewal_moment_at=story.renewal_moment_at,
        renewal_outcome_at=story.renewal_outcome_at,
        evidence=() if event.kind == "sweep" else (event.event_id,),
    )
    active = list(story.active.values())
    conditions = evaluate(snapshot, story.ledger.thresholds, active)
    trigger = event.event_id if event.kind != "sweep" else f"sweep:{story.as_of.isoformat()}"
    for t in transitions(account_id="acme", active=active, conditions=conditions, trigger=trigger):
        if t.kind in ("resolve", "release"):
            story.active.pop(t.alert_id)
        elif t.kind in ("open", "update"):
            opened = story.active[t.alert_id].opened_as_of if t.alert_id in story.active else story.as_of
            story.active[t.alert_id] = ActiveAlert(t.alert_id, t.type, t.key, t.severity, t.status, opened)
        if t.delivered:
            split, risk = snapshot.divergence, snapshot.risk
            story.log.append(
                Entry(
                    story.as_of,
                    t,
                    snapshot.nps,
                    snapshot.account_mean,
                    None if split is None else split.gap,
                    None if split is None else split.lower,
                    None if risk is None else risk.probability,
                )
            )
    story.ledger.record(snapshot)


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def print_log(name: str, story: Story) -> None:
    """Print the delivered alert changes as a markdown table."""
    print(f"\n### {name}\n")
    print("| date | change | alert | severity | NPS | mean | divergence | lower | risk | summary |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for e in story.log:
        t = e.transition
        summary = "" if t.condition is None else t.condition.summary
        alert = t.type + (f" ({t.key})" if t.key else "")
        print(
            f"| {e.at.date()} | {t.kind} | {alert} | {t.severity} | {_fmt(e.nps, '+.0f')} | "
            f"{_fmt(e.account_mean, '+.2f')} | {_fmt(e.divergence, '.2f')} | {_fmt(e.lower, '.2f')} | "
            f"{_fmt(e.risk, '.0%')} | {summary} |"
        )


def print_months(events: list[Event]) -> None:
    """Print the account's figures at the end of every four weeks.

    Roles read "position (confidence)"; divergence is the gap of the pair the model chose (the one whose
    gap best survives the noise) with its standard error and lower bound; noise is the standard
    deviation of one answer as measured in the account.
    """
    print(
        "\n| date | NPS | mean | procurement | IT | finance | sponsor | end users | divergence | pair | lower "
        "| trend | noise | risk |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    cut = START + timedelta(days=13)
    while cut <= END:
        story = run(events, until=cut)
        snap = story.ledger.snapshot(story.as_of, renewal_date=RENEWAL)
        cells = []
        for name in ("procurement", "it", "finance", "executive_sponsor", "end_user"):
            r = next((r for r in snap.roles if r.role == name), None)
            cells.append("n/a" if r is None else f"{r.position:+.2f} ({r.confidence:.2f})")
        split, risk = snap.divergence, snap.risk
        if split is None:
            cells += ["n/a", "n/a", "n/a"]
        else:
            cells += [
                f"{split.gap:.2f} ± {split.se:.2f}",
                f"{split.high.role} / {split.low.role}",
                f"{split.lower:+.2f}",
            ]
        cells += [
            _fmt(snap.trend, "+.2f"),
            f"{snap.answer_noise:.2f}",
            _fmt(None if risk is None else risk.probability, ".0%"),
        ]
        print(f"| {cut.date()} | {_fmt(snap.nps, '+.0f')} | {_fmt(snap.account_mean, '+.2f')} | {' | '.join(cells)} |")
        cut += timedelta(days=28)


if __name__ == "__main__":
    print_months(divided_events())
    print_log("divided account", run(divided_events()))
    print_log("aligned account", run(aligned_events()))
