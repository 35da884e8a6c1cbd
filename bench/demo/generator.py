"""The seeded portfolio: a seed and an end date in, every account's plan and events out (pure).

The stories are dealt to the accounts by a shuffle of the seed; then each account draws from its own
``random.Random`` seeded with the seed and its number, so one account's draws never shift another's.
docs/demo.md describes every parameter.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal

from bench.demo.archetypes import (
    ARCHETYPES,
    BY_NAME,
    DECISION_MAKERS,
    ArchetypeName,
    Outcome,
    action_day,
    sentiment,
    silence_window,
)
from bench.demo.comments import relationship_comment, ticket_comment

YEAR_DAYS: Final = 365
Segment = Literal["enterprise", "mid_market", "smb"]
SEGMENTS: Final[tuple[tuple[Segment, float], ...]] = (("enterprise", 0.3), ("mid_market", 0.4), ("smb", 0.3))
# Per segment: IT people, end users (range), a champion, tickets a year (range), annual value (k, range).
SHAPE: Final[dict[Segment, tuple[int, tuple[int, int], bool, tuple[int, int], tuple[int, int]]]] = {
    "enterprise": (2, (3, 4), True, (8, 12), (200, 1000)),
    "mid_market": (2, (2, 3), False, (5, 8), (50, 200)),
    "smb": (1, (1, 2), False, (3, 5), (10, 50)),
}
# Who gets the quarterly relationship survey: every client role but the pulse roles. This includes
# IT, which is not a decision maker (``DECISION_MAKERS``: procurement, finance, the sponsor).
DECISION_ROLES: Final = ("procurement", "finance", "executive_sponsor", "it")
PULSE_ROLES: Final = ("end_user", "champion")
INFLUENCE: Final = {"executive_sponsor": 1.5, "procurement": 1.2}
QUARTER_DAYS: Final = 91
MONTH_DAYS: Final = 30
# A person's response propensity (the chance they answer a wave) is drawn once from a beta
# distribution with the channel's mean rate and concentration RESPONSE_SPREAD: for the relationship
# survey (mean 0.65), a fifth of the people answer nine waves in ten or more and one in eight fewer
# than three in ten.
ANSWER_RATE_QUARTERLY: Final = 0.65
ANSWER_RATE_PULSE: Final = 0.60
RESPONSE_SPREAD: Final = 2.5
ANSWER_RATE_TICKET: Final = 0.70
ANSWER_RATE_ONBOARDING: Final = 0.80
SILENT_PROPENSITY: Final = 0.9  # a silent decision maker answered (at least) this readily before falling silent
ANSWER_NOISE: Final = 1.0  # standard deviation of one answer around the person's mean, NPS points
BAD_DAY_RATE: Final = 0.03  # the share of answers given on a bad day ...
BAD_DAY_DROP: Final = (3.0, 5.0)  # ... which are this many NPS points lower (uniform)
CSAT_PER_NPS: Final = 0.4  # one NPS point is 0.4 of a CSAT point (1 + 4 x mean / 10)
PERSON_LEAN: Final = 0.3  # standard deviation of a person's own lean, NPS points
RENEWAL_APPROACH_BEFORE: Final = 120
SUPPLIER = "account-manager@supplier.example"
_NAMES_A: Final = ("North", "Blue", "Iron", "Silver", "Bright", "Stone", "Green", "Swift", "Harbor", "Summit")
_NAMES_B: Final = ("wind", "field", "gate", "brook", "line", "works", "point", "ridge", "dale", "port")
_NAMES_C: Final = ("Logistics", "Health", "Retail", "Foods", "Energy", "Finance", "Media", "Labs", "Travel", "Systems")


@dataclass(frozen=True, slots=True)
class Person:
    """One stakeholder: id, role, side, influence, their own lean in NPS points, how readily they answer.

    ``singled_out``: the person the account's story is about (the unhappy IT person, a cooling or a
    silent decision maker).
    """

    stakeholder_id: str
    role: str
    side: Literal["client", "supplier"]
    influence: float
    lean: float
    propensity: float = 1.0
    singled_out: bool = False


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


def generate(seed: int, *, end: date, accounts: int = 50, comments: bool = True) -> Portfolio:
    """Every account's plan and events for the year ending on ``end`` (the demo passes today).

    ``comments``: whether some answers carry a comment (``comments``). Comments come from a second
    random stream per account, so the events without them are exactly those of ``comments=False``.
    """
    start = datetime.combine(end - timedelta(days=YEAR_DAYS), time(0), tzinfo=UTC)
    stories = [name for name, n in archetype_counts(accounts).items() for _ in range(n)]
    random.Random(seed).shuffle(stories)
    plans: list[AccountPlan] = []
    events: list[tuple[str, int, dict[str, Any]]] = []
    for n, archetype in enumerate(stories, start=1):
        voice = random.Random(f"{seed}:{n}:comments") if comments else None
        account = _Account(f"demo-{seed}-{n:02d}", archetype, start, random.Random(f"{seed}:{n}"), voice)
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
    voice: random.Random | None  # the comments' own stream (None: no comments), never ``rng``
    plan: AccountPlan = field(init=False)
    _events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = self.rng
        segment: Segment = draw(rng, SEGMENTS)
        it_people, users, champion, _, value = SHAPE[segment]
        roles = ["procurement", "finance", "executive_sponsor", *["it"] * it_people]
        roles += ["end_user"] * rng.randint(*users) + (["champion"] if champion else [])
        people = [self._person(role, roles[:i].count(role) + 1) for i, role in enumerate(roles)]
        people = self._single_out(people)
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
        rate = ANSWER_RATE_PULSE if role in PULSE_ROLES else ANSWER_RATE_QUARTERLY
        propensity = self.rng.betavariate(rate * RESPONSE_SPREAD, (1 - rate) * RESPONSE_SPREAD)
        person_id = f"{role.replace('_', '-')}{k}@{self.account_id}.example"
        return Person(person_id, role, "client", INFLUENCE.get(role, 1.0), round(lean, 2), round(propensity, 3))

    def _single_out(self, people: list[Person]) -> list[Person]:
        """Mark the people the story is about: one IT person, or one or two decision makers."""
        rng = self.rng
        chosen: set[str] = set()
        if self.archetype == "unhappy_it_person":
            chosen = {rng.choice([p.stakeholder_id for p in people if p.role == "it"])}
        elif self.archetype == "decision_makers_cooling":
            roles = rng.choice((("procurement",), ("finance",), ("procurement", "finance")))
            chosen = {p.stakeholder_id for p in people if p.role in roles}
        elif self.archetype == "silent_decision_maker":
            makers = [p.stakeholder_id for p in people if p.role in DECISION_MAKERS]
            chosen = set(rng.sample(makers, 1 if rng.random() < 0.6 else 2))
        floor = SILENT_PROPENSITY if self.archetype == "silent_decision_maker" else 0.0
        return [
            replace(p, singled_out=True, propensity=max(p.propensity, floor)) if p.stakeholder_id in chosen else p
            for p in people
        ]

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
        plan = self.plan
        return sentiment(plan.archetype, person.role, day, plan.renewal_day, person.singled_out) + person.lean

    def _reading(self, person: Person, day: float) -> float:
        """One noisy reading of the person's mood, NPS points: noise, and now and then a bad day."""
        value = self._mean(person, day) + self.rng.gauss(0, ANSWER_NOISE)
        if self.rng.random() < BAD_DAY_RATE:
            value -= self.rng.uniform(*BAD_DAY_DROP)
        return value

    def _nps(self, person: Person, day: float) -> int:
        return round(max(0.0, min(10.0, self._reading(person, day))))

    def _csat(self, person: Person, day: float) -> int:
        # The same reading on a 1-5 scale: 8.4 of 10 rates a ticket 4, 3.2 rates it 2.
        return round(max(1.0, min(5.0, 1 + CSAT_PER_NPS * self._reading(person, day))))

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

    def _silent(self, person: Person) -> bool:
        return person.singled_out and self.plan.archetype == "silent_decision_maker"

    def _relationship_survey(self, phase: int, last: int) -> None:
        """Quarterly relationship NPS to every client role but the pulse roles (decision makers and IT).

        Each person answers a wave as readily as their propensity says, except a silent decision
        maker: nothing in their silence, then every wave of the last weeks before the renewal (and,
        when no wave falls there, a late answer to the last one). The supplier rates itself the same week.
        """
        supplier = next(p for p in self.plan.people if p.side == "supplier")
        silent = silence_window(self.plan.renewal_day)
        spoke: set[str] = set()  # the silent decision makers who answered a wave after their silence
        for wave in range(phase, last, QUARTER_DAYS):
            for person in self._client(*DECISION_ROLES):
                day = wave + self.rng.randint(0, 6)
                answers = self.rng.random() < person.propensity
                if self._silent(person):
                    late = silent[1] <= day < self.plan.renewal_day
                    answers = late or (answers and not silent[0] <= day < silent[1])
                    if late and day < last:
                        spoke.add(person.stakeholder_id)
                if answers and day < last:
                    self._survey_answer(person, day)
            if wave + 3 >= last:
                continue
            # Suppliers believe they deliver: the account manager rates the relationship and support highly.
            self._answer(supplier, wave + 3, 9, "nps", self.rng.choice((9, 10)), source="self-assessment")
            self._answer(
                supplier, wave + 3, 9, "csat", self.rng.choice((4, 5, 5)), dimension="support", source="self-assessment"
            )
        for person in self._client(*DECISION_MAKERS):
            if self._silent(person) and person.stakeholder_id not in spoke:
                day = self.rng.randint(silent[1] + 5, self.plan.renewal_day - 3)
                self._survey_answer(person, day)

    def _survey_answer(self, person: Person, day: int) -> None:
        """One relationship-survey answer, with the comment the person may write beside it."""
        hour = self.rng.randint(8, 17)  # drawn before the score, as always: the same seed, the same answers
        score = self._nps(person, day)
        comment = relationship_comment(self.voice, self.plan.archetype, person.role, score) if self.voice else None
        extra = {"comment": comment} if comment else {}
        self._answer(person, day, hour, "nps", score, source="relationship", **extra)

    def _pulse(self, phase: int, last: int) -> None:
        """Monthly pulse to end users and the champion: NPS one month, CSAT on the product the next."""
        for n, wave in enumerate(range(phase, last, MONTH_DAYS)):
            for person in self._client(*PULSE_ROLES):
                day = wave + self.rng.randint(0, 4)
                if self.rng.random() < person.propensity and day < last:
                    hour = self.rng.randint(8, 17)
                    if n % 2 == 0:
                        self._answer(person, day, hour, "nps", self._nps(person, day), source="pulse")
                    else:
                        score = self._csat(person, day)
                        self._answer(person, day, hour, "csat", score, dimension="product", source="pulse")

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
                comment = ticket_comment(self.voice, score) if self.voice else None
                extra = {"comment": comment} if comment else {}
                self._answer(
                    person,
                    day,
                    15,
                    "csat",
                    score,
                    dimension="support",
                    moment="support_close",
                    response_id=ticket,
                    **extra,
                )

    def _onboarding(self, day: int) -> None:
        """A new module rolled out to the end users: onboarding, then their CSAT a week later."""
        self._moment(day, 9, "onboarding", {"module": "reporting"})
        for person in self._client(*PULSE_ROLES):
            if self.rng.random() < ANSWER_RATE_ONBOARDING:
                score = self._csat(person, day + 7)
                self._answer(person, day + 7, 11, "csat", score, dimension="onboarding", moment="onboarding")
