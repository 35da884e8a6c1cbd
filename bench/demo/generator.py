"""The seeded portfolio: a seed and an end date in, every account's plan and events out (pure).

The stories are dealt to the accounts by a shuffle of the seed; then each account draws from its own
``random.Random`` seeded with the seed and its number, so one account's draws never shift another's.
docs/demo.md describes every parameter.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal

from bench.demo.archetypes import ARCHETYPES, BY_NAME, ArchetypeName, Outcome, action_day, sentiment

YEAR_DAYS: Final = 365
Segment = Literal["enterprise", "mid_market", "smb"]
SEGMENTS: Final[tuple[tuple[Segment, float], ...]] = (("enterprise", 0.3), ("mid_market", 0.4), ("smb", 0.3))
# Per segment: IT people, end users (range), a champion, tickets a year (range), annual value (k, range).
SHAPE: Final[dict[Segment, tuple[int, tuple[int, int], bool, tuple[int, int], tuple[int, int]]]] = {
    "enterprise": (2, (3, 4), True, (8, 12), (200, 1000)),
    "mid_market": (2, (2, 3), False, (5, 8), (50, 200)),
    "smb": (1, (1, 2), False, (3, 5), (10, 50)),
}
DECISION_ROLES: Final = ("procurement", "finance", "executive_sponsor", "it")
PULSE_ROLES: Final = ("end_user", "champion")
INFLUENCE: Final = {"executive_sponsor": 1.5, "procurement": 1.2}
QUARTER_DAYS: Final = 91
MONTH_DAYS: Final = 30
ANSWER_RATE_QUARTERLY: Final = 0.85
ANSWER_RATE_PULSE: Final = 0.75
ANSWER_RATE_TICKET: Final = 0.70
ANSWER_RATE_ONBOARDING: Final = 0.80
ANSWER_NOISE: Final = 0.5  # standard deviation of one answer around the person's mean, NPS points
PERSON_LEAN: Final = 0.3  # standard deviation of a person's own lean, NPS points
RENEWAL_APPROACH_BEFORE: Final = 120
SUPPLIER = "account-manager@supplier.example"
_NAMES_A: Final = ("North", "Blue", "Iron", "Silver", "Bright", "Stone", "Green", "Swift", "Harbor", "Summit")
_NAMES_B: Final = ("wind", "field", "gate", "brook", "line", "works", "point", "ridge", "dale", "port")
_NAMES_C: Final = ("Logistics", "Health", "Retail", "Foods", "Energy", "Finance", "Media", "Labs", "Travel", "Systems")


@dataclass(frozen=True, slots=True)
class Person:
    """One stakeholder: id, role, side, influence, and their own lean in NPS points."""

    stakeholder_id: str
    role: str
    side: Literal["client", "supplier"]
    influence: float
    lean: float


@dataclass(frozen=True, slots=True)
class AccountPlan:
    """What the generator planted in one account."""

    account_id: str
    name: str
    segment: Segment
    annual_value: float
    archetype: ArchetypeName
    renewal_day: int
    renewal: date
    outcome: Outcome
    people: tuple[Person, ...]


@dataclass(frozen=True, slots=True)
class Portfolio:
    """The generated year: the plans and every event, in event-time order."""

    seed: int
    start: datetime
    end: date
    accounts: tuple[AccountPlan, ...]
    events: tuple[dict[str, Any], ...]


def archetype_counts(accounts: int) -> dict[ArchetypeName, int]:
    """How many accounts follow each story: the shares, rounded by largest remainder."""
    exact = [(a.name, a.share * accounts) for a in ARCHETYPES]
    counts = {name: math.floor(x) for name, x in exact}
    by_remainder = sorted(
        exact, key=lambda item: (-(item[1] - math.floor(item[1])), [a.name for a in ARCHETYPES].index(item[0]))
    )
    for name, _ in by_remainder[: accounts - sum(counts.values())]:
        counts[name] += 1
    return counts


def draw(rng: random.Random, odds: tuple[tuple[Any, float], ...]) -> Any:
    """One choice by the given odds (they sum to 1)."""
    roll = rng.random()
    for choice, p in odds:
        roll -= p
        if roll < 0:
            return choice
    return odds[-1][0]


def generate(seed: int, *, end: date, accounts: int = 50) -> Portfolio:
    """Every account's plan and events for the year ending on ``end`` (the demo passes today)."""
    start = datetime.combine(end - timedelta(days=YEAR_DAYS), time(0), tzinfo=UTC)
    stories = [name for name, n in archetype_counts(accounts).items() for _ in range(n)]
    random.Random(seed).shuffle(stories)
    plans: list[AccountPlan] = []
    events: list[tuple[str, int, dict[str, Any]]] = []
    for n, archetype in enumerate(stories, start=1):
        account = _Account(f"demo-{seed}-{n:02d}", archetype, start, random.Random(f"{seed}:{n}"))
        plans.append(account.plan)
        events += [(e["occurred_at"], len(events) + i, e) for i, e in enumerate(account.events())]
    events.sort(key=lambda item: (item[0], item[1]))
    return Portfolio(seed, start, end, tuple(plans), tuple(e for _, _, e in events))


@dataclass
class _Account:
    """Builds one account's plan and events from its own random stream."""

    account_id: str
    archetype: ArchetypeName
    start: datetime
    rng: random.Random
    plan: AccountPlan = field(init=False)
    _events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = self.rng
        segment: Segment = draw(rng, SEGMENTS)
        it_people, users, champion, _, value = SHAPE[segment]
        roles = ["procurement", "finance", "executive_sponsor", *["it"] * it_people]
        roles += ["end_user"] * rng.randint(*users) + (["champion"] if champion else [])
        people = [self._person(role, roles[:i].count(role) + 1) for i, role in enumerate(roles)]
        people.append(Person(SUPPLIER, "other", "supplier", 1.0, 0.0))
        story = BY_NAME[self.archetype]
        renewal_day = rng.randint(*story.renewal_days)
        name = f"{rng.choice(_NAMES_A)}{rng.choice(_NAMES_B)} {rng.choice(_NAMES_C)}"
        self.plan = AccountPlan(
            account_id=self.account_id,
            name=name,
            segment=segment,
            annual_value=float(rng.randint(*value) * 1000),
            archetype=self.archetype,
            renewal_day=renewal_day,
            renewal=(self.start + timedelta(days=renewal_day)).date(),
            outcome=draw(rng, story.outcome_odds),
            people=tuple(people),
        )

    def _person(self, role: str, k: int) -> Person:
        lean = max(-1.0, min(1.0, self.rng.gauss(0, PERSON_LEAN)))
        person_id = f"{role.replace('_', '-')}{k}@{self.account_id}.example"
        return Person(person_id, role, "client", INFLUENCE.get(role, 1.0), round(lean, 2))

    # -- events -----------------------------------------------------------------------------------

    def events(self) -> list[dict[str, Any]]:
        """Directory, survey programme, tickets, onboarding and renewal moments, unsorted."""
        plan, rng = self.plan, self.rng
        self._directory()
        last = plan.renewal_day if plan.outcome == "churned" else YEAR_DAYS  # a churned account goes quiet
        self._onboarding(rng.randint(20, 120))
        self._relationship_survey(rng.randint(0, QUARTER_DAYS - 1), last)
        self._pulse(rng.randint(0, MONTH_DAYS - 1), last)
        self._tickets(rng.randint(*SHAPE[plan.segment][3]), last)
        if plan.archetype == "recovering":
            self._moment(action_day(plan.renewal_day), 11, "success_plan", {"action": "IT remediation plan"})
        if plan.renewal_day - RENEWAL_APPROACH_BEFORE >= 0:
            self._moment(plan.renewal_day - RENEWAL_APPROACH_BEFORE, 10, "renewal_approach", {})
        self._moment(plan.renewal_day, 12, "renewal_outcome", {"outcome": plan.outcome})
        return self._events

    def _at(self, day: float, hour: int = 0) -> str:
        return (self.start + timedelta(days=day, hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _add(self, kind: str, body: dict[str, Any]) -> None:
        body["event_id"] = f"{self.account_id}-{kind}-{len(self._events):04d}"
        self._events.append(body)

    def _directory(self) -> None:
        plan = self.plan
        self._add(
            "account",
            {
                "type": "account",
                "account_id": plan.account_id,
                "occurred_at": self._at(0),
                "name": plan.name,
                "segment": plan.segment,
                "renewal_date": plan.renewal.isoformat(),
                "annual_value": plan.annual_value,
            },
        )
        for person in plan.people:
            self._add(
                "person",
                {
                    "type": "stakeholder",
                    "account_id": plan.account_id,
                    "stakeholder_id": person.stakeholder_id,
                    "occurred_at": self._at(0),
                    "role": person.role,
                    "side": person.side,
                    "influence": person.influence,
                },
            )

    def _mean(self, person: Person, day: float) -> float:
        return sentiment(self.plan.archetype, person.role, day, self.plan.renewal_day) + person.lean

    def _nps(self, person: Person, day: float) -> int:
        return round(max(0.0, min(10.0, self._mean(person, day) + self.rng.gauss(0, ANSWER_NOISE))))

    def _csat(self, person: Person, day: float) -> int:
        # The same mood on a 1-5 scale: 8.4 of 10 rates a ticket 4, 3.2 rates it 2.
        mood = 1 + 4 * self._mean(person, day) / 10 + self.rng.gauss(0, ANSWER_NOISE / 2)
        return round(max(1.0, min(5.0, mood)))

    def _answer(self, person: Person, day: float, hour: int, metric: str, score: int, **extra: Any) -> None:
        self._add(
            "answer",
            {
                "type": "survey_response",
                "account_id": self.account_id,
                "stakeholder_id": person.stakeholder_id,
                "occurred_at": self._at(day, hour),
                "metric": metric,
                "score": score,
                **extra,
            },
        )

    def _moment(self, day: float, hour: int, moment: str, attributes: dict[str, Any], who: str | None = None) -> None:
        body: dict[str, Any] = {
            "type": "journey_moment",
            "account_id": self.account_id,
            "occurred_at": self._at(day, hour),
            "moment": moment,
            "attributes": attributes,
        }
        if who is not None:
            body["stakeholder_id"] = who
        self._add("moment", body)

    def _client(self, *roles: str) -> list[Person]:
        return [p for p in self.plan.people if p.side == "client" and p.role in roles]

    def _relationship_survey(self, phase: int, last: int) -> None:
        """Quarterly relationship NPS to the decision-makers; the supplier rates itself the same week."""
        supplier = next(p for p in self.plan.people if p.side == "supplier")
        for wave in range(phase, last, QUARTER_DAYS):
            for person in self._client(*DECISION_ROLES):
                day = wave + self.rng.randint(0, 6)
                if self.rng.random() < ANSWER_RATE_QUARTERLY and day < last:
                    self._answer(
                        person, day, self.rng.randint(8, 17), "nps", self._nps(person, day), source="relationship"
                    )
            if wave + 3 >= last:
                continue
            # Suppliers believe they deliver: the account manager rates the relationship and support highly.
            self._answer(supplier, wave + 3, 9, "nps", self.rng.choice((9, 10)), source="self-assessment")
            self._answer(
                supplier, wave + 3, 9, "csat", self.rng.choice((4, 5, 5)), dimension="support", source="self-assessment"
            )

    def _pulse(self, phase: int, last: int) -> None:
        """Monthly pulse NPS to end users and the champion."""
        for wave in range(phase, last, MONTH_DAYS):
            for person in self._client(*PULSE_ROLES):
                day = wave + self.rng.randint(0, 4)
                if self.rng.random() < ANSWER_RATE_PULSE and day < last:
                    self._answer(person, day, self.rng.randint(8, 17), "nps", self._nps(person, day), source="pulse")

    def _tickets(self, count: int, last: int) -> None:
        """Support tickets closed through the year, each rated (CSAT on support) by whoever opened it."""
        it, users = self._client("it"), self._client(*PULSE_ROLES)
        for n in range(count):
            day = self.rng.randint(0, last - 1)
            person = self.rng.choice(it if self.rng.random() < 0.6 else users)
            ticket = f"{self.account_id}-T{n:02d}"
            attributes = {"ticket": ticket, "priority": self.rng.choice(("low", "normal", "high"))}
            self._moment(day, 13, "support_close", attributes, person.stakeholder_id)
            if self.rng.random() < ANSWER_RATE_TICKET:
                score = self._csat(person, day)
                self._answer(
                    person, day, 15, "csat", score, dimension="support", moment="support_close", response_id=ticket
                )

    def _onboarding(self, day: int) -> None:
        """A new module rolled out to the end users: onboarding, then their CSAT a week later."""
        self._moment(day, 9, "onboarding", {"module": "reporting"})
        for person in self._client(*PULSE_ROLES):
            if self.rng.random() < ANSWER_RATE_ONBOARDING:
                score = self._csat(person, day + 7)
                self._answer(person, day + 7, 11, "csat", score, dimension="onboarding", moment="onboarding")
