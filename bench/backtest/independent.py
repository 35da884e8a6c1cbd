"""An independent simulated portfolio, for backtesting the renewal-risk alerts on data the product did not shape.

Written without knowledge of how the analyzer's model decides, and with a latent model of its own
(unlike ``bench.demo.generator``, whose stories set each role's mean sentiment on a fixed path):

* every person holds a latent opinion on the NPS 0-10 scale that follows a daily Ornstein-Uhlenbeck
  process pulled towards a target: the account's story path for the person's role, plus a personal lean,
  plus an account-wide mood that itself wanders (so the people of one account move together a little);
  a support ticket nudges its opener's opinion up or down with the ticket's quality;
* an answer is a noisy reading of that opinion (about one NPS point of standard deviation, rounded and
  clipped), CSAT a reading on 1-5, and 3% of answers are a "bad day" three to five points off;
* whether a person answers depends on a personal propensity (some nearly always, some rarely), a little
  on their mood (unhappy people answer less) and on survey fatigue;
* the outcome of a renewal is drawn from a logistic function of the decision makers' mean latent opinion
  over the 90 days before it, plus a random term, never from the story label itself.

Everything is deterministic from the seed, and accounts are independent: account ``n`` draws from
``random.Random(f"{seed}:{n}")`` only, so a portfolio of 10 accounts starts with the one of 5.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal

Outcome = Literal["renewed", "downsized", "churned"]

STORIES: Final[tuple[str, ...]] = ("healthy", "unhappy_all", "split", "silent_dm", "unhappy_it", "recovering")
"""The accounts' stories: labels of the plan only, never written into an event."""

STORY_SHARES: Final[dict[str, float]] = {
    "healthy": 0.40,
    "unhappy_all": 0.12,
    "split": 0.15,
    "silent_dm": 0.10,
    "unhappy_it": 0.13,
    "recovering": 0.10,
}
"""The probability of each story, drawn per account (so the counts of a portfolio vary around them)."""

DECISION_ROLES: Final[tuple[str, ...]] = ("procurement", "finance", "executive_sponsor")
USER_ROLES: Final[tuple[str, ...]] = ("it", "end_user", "champion")

PERIOD_DAYS: Final = 456  # about 15 months, ending at ``end``
RENEWAL_DAYS: Final = (PERIOD_DAYS - 270, PERIOD_DAYS - 3)  # the last ~9 months: >= 186 days of history
RENEWAL_APPROACH_BEFORE: Final = 120
OUTCOME_WINDOW: Final = 90  # the days before a renewal whose decision-maker opinion decides it

# The latent opinion: a daily Ornstein-Uhlenbeck step towards the target, in NPS points.
PERSON_THETA: Final = 1 / 30  # a person forgets half of a deviation in about three weeks
PERSON_SD: Final = 0.6  # stationary standard deviation of a person's wander around the target
ACCOUNT_THETA: Final = 1 / 60
ACCOUNT_SD: Final = 0.45  # the account-wide mood shared by its people
LEAN_SD: Final = 0.6
ROLE_OFFSET: Final[dict[str, float]] = {
    "procurement": -0.4,
    "finance": -0.2,
    "executive_sponsor": 0.2,
    "it": -0.1,
    "end_user": 0.0,
    "champion": 0.7,
}

# Reading an answer off the latent opinion.
NPS_NOISE: Final = 1.0
CSAT_NOISE: Final = 0.45  # on the 1-5 scale, where one NPS point is 0.4
BAD_DAY_RATE: Final = 0.03
BAD_DAY_UP: Final = 0.2  # the share of bad days that are unusually generous instead
TICKET_QUALITY_SD: Final = 1.5  # how far one ticket's experience sits from the opener's opinion, NPS points
TICKET_IMPRINT: Final = 0.25  # how much of it stays in the opener's opinion

# Who answers.
PROPENSITY_BETA: Final = (1.8, 0.8)  # mean 0.69: many answer nearly always, some rarely
MOOD_ON_RESPONSE: Final = 0.15  # logit change per NPS point of opinion above 7
FATIGUE: Final = 0.97  # per relationship wave
PULSE_FACTOR: Final = 0.55  # the monthly pulse is answered less than the relationship survey
TICKET_ANSWER_RATE: Final = 0.6
SILENT_RETURN_RATE: Final = 0.9  # a silent decision maker answers the renewal check-in

# The renewal: P(bad) = sigmoid(slope * (midpoint - m) + noise), m the decision makers' mean opinion.
OUTCOME_MIDPOINT: Final = 5.75
OUTCOME_SLOPE: Final = 1.2
OUTCOME_NOISE: Final = 0.5
CHURN_MIDPOINT: Final = 4.6  # a bad renewal is a churn rather than a downsize with sigmoid(1.0 * (4.6 - m))

SEGMENTS: Final[tuple[tuple[str, float, float], ...]] = (
    # segment, weight, median annual value
    ("enterprise", 0.25, 240_000.0),
    ("mid_market", 0.45, 60_000.0),
    ("smb", 0.30, 12_000.0),
)
TICKETS_PER_MONTH: Final[dict[str, float]] = {"enterprise": 3.0, "mid_market": 2.0, "smb": 1.0}
_NAME_FIRST: Final = ("Northwind", "Bluebay", "Kestrel", "Harbor", "Alder", "Quarry", "Summit", "Larch", "Meridian")
_NAME_SECOND: Final = ("Logistics", "Foods", "Clinics", "Metals", "Insurance", "Retail", "Energy", "Labs", "Freight")
_NAME_SUFFIX: Final = ("Ltd", "GmbH", "Inc", "AG", "BV", "SA", "Group")


@dataclass(frozen=True, slots=True)
class IndependentAccount:
    """One simulated account: its (hidden) story and the outcome drawn at its renewal."""

    account_id: str
    story: str
    outcome: Outcome
    renewal: date
    annual_value: float


@dataclass(frozen=True, slots=True)
class IndependentPortfolio:
    """A seeded portfolio: the accounts' plans and every event, in the order they happened."""

    seed: int
    start: datetime
    end: date
    accounts: tuple[IndependentAccount, ...]
    events: tuple[dict[str, Any], ...]  # sorted by (occurred_at, insertion order)


def generate(seed: int, *, end: date, accounts: int = 120) -> IndependentPortfolio:
    """The portfolio of ``accounts`` accounts over the ~15 months that end on ``end`` (inclusive)."""
    if accounts < 0:
        raise ValueError("accounts must not be negative")
    start = datetime.combine(end - timedelta(days=PERIOD_DAYS), time(), tzinfo=UTC)
    plans: list[IndependentAccount] = []
    events: list[dict[str, Any]] = []
    for n in range(accounts):
        simulation = _Account(seed, n, start)
        plans.append(simulation.plan())
        events.extend(simulation.events)
    events.sort(key=lambda event: str(event["occurred_at"]))  # stable: ties keep their insertion order
    return IndependentPortfolio(seed=seed, start=start, end=end, accounts=tuple(plans), events=tuple(events))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _interpolate(knots: Sequence[tuple[float, float]], day: float) -> float:
    """A piecewise linear path through ``knots`` (day, value), flat before the first and after the last."""
    if day <= knots[0][0]:
        return knots[0][1]
    for (d0, v0), (d1, v1) in itertools.pairwise(knots):
        if day <= d1:
            return v0 + (v1 - v0) * (day - d0) / (d1 - d0) if d1 > d0 else v1
    return knots[-1][1]


@dataclass(slots=True)
class _Person:
    stakeholder_id: str
    role: str
    side: str
    influence: float
    lean: float
    propensity: float
    knots: list[tuple[float, float]] = field(default_factory=list)  # the story's target path, lean included
    opinion: list[float] = field(default_factory=list)  # the latent opinion, one value a day
    silent: tuple[int, int] | None = None  # days during which the person answers nothing
    jumps: dict[int, float] = field(default_factory=dict)  # ticket experiences, by day


@dataclass(frozen=True, slots=True)
class _Ticket:
    number: int
    day: int
    person: _Person
    quality: float  # NPS points above or below the opener's opinion


class _Account:
    """One account, simulated from its own random stream: plan, latent opinions, outcome, then the events."""

    def __init__(self, seed: int, n: int, start: datetime) -> None:
        self.rng = random.Random(f"{seed}:{n}")
        self.start = start
        self.account_id = f"ind-{seed}-{n:03d}"
        rng = self.rng
        self.story: str = rng.choices(STORIES, weights=[STORY_SHARES[s] for s in STORIES])[0]
        segments = [s for s, _, _ in SEGMENTS]
        self.segment: str = rng.choices(segments, weights=[w for _, w, _ in SEGMENTS])[0]
        median = next(v for s, _, v in SEGMENTS if s == self.segment)
        self.annual_value = float(round(median * math.exp(rng.gauss(0, 0.5)), -2))
        self.name = f"{rng.choice(_NAME_FIRST)} {rng.choice(_NAME_SECOND)} {rng.choice(_NAME_SUFFIX)}"
        self.renewal_day = rng.randint(*RENEWAL_DAYS)
        self.people = self._people()
        self._story_paths()
        self.tickets = self._tickets()
        self._simulate_opinions()
        self.outcome = self._outcome()
        self.events: list[dict[str, Any]] = []
        self._write_events()

    def plan(self) -> IndependentAccount:
        """The account as the backtest sees it."""
        return IndependentAccount(
            account_id=self.account_id,
            story=self.story,
            outcome=self.outcome,
            renewal=(self.start + timedelta(days=self.renewal_day)).date(),
            annual_value=self.annual_value,
        )

    # -- plan ---------------------------------------------------------------------------------------

    def _people(self) -> list[_Person]:
        rng = self.rng
        it = rng.randint(1, 2)
        champion = 1 if rng.random() < 0.35 else 0
        end_users = rng.randint(max(1, 3 - it - champion), min(3, 5 - it - champion))
        roles = [*DECISION_ROLES, *["it"] * it, *["end_user"] * end_users, *["champion"] * champion]
        people: list[_Person] = []
        counts: dict[str, int] = {}
        for role in roles:
            counts[role] = counts.get(role, 0) + 1
            influence = {"executive_sponsor": 1.5, "procurement": 1.0, "finance": 1.0, "champion": 0.8}.get(role, 0.5)
            people.append(
                _Person(
                    stakeholder_id=f"{role}{counts[role]}@{self.account_id}.example",
                    role=role,
                    side="client",
                    influence=influence,
                    lean=max(-1.5, min(1.5, rng.gauss(0, LEAN_SD))),
                    propensity=rng.betavariate(*PROPENSITY_BETA),
                )
            )
        people.append(
            _Person(
                stakeholder_id=f"other1@{self.account_id}.example",
                role="other",
                side="supplier",
                influence=0.5,
                lean=0.0,
                propensity=1.0,
            )
        )
        return people

    def _client(self, *roles: str) -> list[_Person]:
        return [p for p in self.people if p.side == "client" and p.role in roles]

    def _story_paths(self) -> None:
        """Each client person's target opinion over the period: the story's path, the role's offset, the lean."""
        rng, story, renewal = self.rng, self.story, self.renewal_day
        healthy_base = min(9.2, max(7.0, rng.gauss(8.1, 0.45)))
        low = rng.uniform(3.0, 5.0)  # where unhappy decision makers end up

        def level(person: _Person, base: float) -> float:
            return base + ROLE_OFFSET[person.role] + person.lean

        def dm_low(person: _Person) -> float:
            return low + 0.5 * person.lean + rng.gauss(0, 0.5)

        decision_makers = self._client(*DECISION_ROLES)
        unhappy: set[str] = set()
        if story == "silent_dm":
            unhappy = {p.stakeholder_id for p in rng.sample(decision_makers, rng.choice((1, 1, 2)))}
        elif story in ("split", "recovering"):
            unhappy = {p.stakeholder_id for p in decision_makers}
        unhappy_it = rng.choice(self._client("it")).stakeholder_id if story == "unhappy_it" else None
        start_level, slide = rng.gauss(6.0, 0.6), rng.uniform(1.5, 3.0)
        decline_start = max(0, renewal - rng.randint(180, 300))
        decline_end = renewal - rng.randint(20, 50)
        fix = renewal - rng.randint(150, 200)
        recovered = fix + rng.randint(30, 60)
        silence_start = max(0, renewal - rng.randint(200, 300)) + rng.randint(20, 60)

        for person in self._client(*DECISION_ROLES, *USER_ROLES):
            high = level(person, healthy_base)
            if story == "unhappy_all":
                person.knots = [(0, level(person, start_level)), (renewal, level(person, start_level - slide))]
            elif person.stakeholder_id == unhappy_it:
                person.knots = [(0, rng.uniform(2.0, 4.0))]
            elif person.stakeholder_id in unhappy and story == "recovering":
                fall = max(0, renewal - rng.randint(300, 380))
                person.knots = [(fall, high), (fix, dm_low(person)), (recovered, high - rng.uniform(0, 0.8))]
            elif person.stakeholder_id in unhappy:
                target = dm_low(person)
                if story == "split" and person.role == "executive_sponsor" and rng.random() < 0.3:
                    target = (high + target) / 2  # a sponsor who only half follows the others down
                person.knots = [(decline_start, high), (decline_end, target)]
                if story == "silent_dm":
                    person.silent = (silence_start, renewal - rng.randint(35, 60))
            elif story == "silent_dm" and person.role in DECISION_ROLES:
                person.knots = [(0, high), (renewal, high - rng.uniform(0, 1.0))]  # a little worried too
            else:
                person.knots = [(0, high)]

    def _tickets(self) -> list[_Ticket]:
        """Support tickets over the period: mostly opened by IT, each an experience better or worse than usual."""
        rng = self.rng
        rate = TICKETS_PER_MONTH[self.segment] * rng.uniform(0.5, 1.5) / 30.4
        it, users = self._client("it"), self._client("end_user", "champion")
        tickets: list[_Ticket] = []
        for day in range(PERIOD_DAYS):
            if rng.random() < rate:
                person = rng.choice(it if rng.random() < 0.6 else users)
                quality = rng.gauss(0, TICKET_QUALITY_SD)
                tickets.append(_Ticket(len(tickets), day, person, quality))
                person.jumps[day] = person.jumps.get(day, 0.0) + TICKET_IMPRINT * quality
        return tickets

    # -- latent opinions and the outcome ------------------------------------------------------------

    def _ou_path(self, target: Callable[[int], float], theta: float, sd: float, start: float) -> list[float]:
        rng, sigma = self.rng, sd * math.sqrt(2 * theta)
        path, x = [], start
        for day in range(PERIOD_DAYS + 1):
            path.append(x)
            x += theta * (target(day) - x) + sigma * rng.gauss(0, 1)
        return path

    def _simulate_opinions(self) -> None:
        mood = self._ou_path(lambda _day: 0.0, ACCOUNT_THETA, ACCOUNT_SD, self.rng.gauss(0, ACCOUNT_SD))
        for person in self._client(*DECISION_ROLES, *USER_ROLES):
            knots, jumps = person.knots, person.jumps
            rng, sigma = self.rng, PERSON_SD * math.sqrt(2 * PERSON_THETA)
            x = _interpolate(knots, 0) + mood[0] + rng.gauss(0, PERSON_SD)
            path: list[float] = []
            for day in range(PERIOD_DAYS + 1):
                x = min(10.0, max(0.0, x))
                path.append(x)
                target = _interpolate(knots, day) + mood[day]
                x += PERSON_THETA * (target - x) + sigma * rng.gauss(0, 1) + jumps.get(day, 0.0)
            person.opinion = path

    def _outcome(self) -> Outcome:
        """Drawn from the decision makers' mean latent opinion over the 90 days before the renewal."""
        rng, renewal = self.rng, self.renewal_day
        window = range(renewal - OUTCOME_WINDOW, renewal)
        decision_makers = self._client(*DECISION_ROLES)
        m = sum(p.opinion[d] for p in decision_makers for d in window) / (len(decision_makers) * len(window))
        bad = _sigmoid(OUTCOME_SLOPE * (OUTCOME_MIDPOINT - m) + rng.gauss(0, OUTCOME_NOISE))
        if rng.random() >= bad:
            return "renewed"
        return "churned" if rng.random() < _sigmoid(CHURN_MIDPOINT - m) else "downsized"

    # -- answers ------------------------------------------------------------------------------------

    def _bad_day(self) -> float:
        """0, or the 3% of answers given on a bad (rarely an unusually good) day, in NPS points."""
        if self.rng.random() >= BAD_DAY_RATE:
            return 0.0
        shift = self.rng.uniform(3.0, 5.0)
        return shift if self.rng.random() < BAD_DAY_UP else -shift

    def _nps(self, person: _Person, day: int) -> int:
        reading = person.opinion[day] + self.rng.gauss(0, NPS_NOISE) + self._bad_day()
        return round(max(0.0, min(10.0, reading)))

    def _csat(self, person: _Person, day: int, experience: float = 0.0) -> int:
        opinion = person.opinion[day] + experience + self._bad_day()
        reading = 1 + 4 * opinion / 10 + self.rng.gauss(0, CSAT_NOISE)
        return round(max(1.0, min(5.0, reading)))

    def _answers(self, person: _Person, day: int, factor: float = 1.0, wave: int = 0) -> bool:
        """Whether the person answers a survey sent on ``day``."""
        if person.silent is not None and person.silent[0] <= day <= person.silent[1]:
            return False
        p = _sigmoid(_logit(person.propensity * factor * FATIGUE**wave) + MOOD_ON_RESPONSE * (person.opinion[day] - 7))
        return self.rng.random() < p

    def _delay(self, most: int = 14) -> int:
        return min(most, int(self.rng.expovariate(1 / 3)))

    # -- events -------------------------------------------------------------------------------------

    def _quiet(self, day: int, hour: int) -> bool:
        """Nothing happens after the period, nor after the renewal of a churned account."""
        if day > PERIOD_DAYS:
            return True
        return self.outcome == "churned" and (day, hour) > (self.renewal_day, 12)

    def _at(self, day: int, hour: int, minute: int = 0) -> str:
        return (self.start + timedelta(days=day, hours=hour, minutes=minute)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _add(self, kind: str, body: dict[str, Any]) -> None:
        body["event_id"] = f"{self.account_id}-{kind}-{len(self.events):04d}"
        self.events.append(body)

    def _answer(self, person: _Person, day: int, metric: str, score: int, **extra: Any) -> None:
        hour = self.rng.randint(7, 19)
        if self._quiet(day, hour):
            return
        body = {
            "type": "survey_response",
            "account_id": self.account_id,
            "stakeholder_id": person.stakeholder_id,
            "occurred_at": self._at(day, hour, self.rng.randint(0, 59)),
            "metric": metric,
            "score": score,
            **extra,
        }
        self._add("answer", body)

    def _moment(self, day: int, hour: int, moment: str, attributes: dict[str, Any], who: str | None = None) -> None:
        if self._quiet(day, hour):
            return
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

    def _write_events(self) -> None:
        self._directory()
        self._onboarding()
        self._relationship_waves()
        self._pulses()
        self._support()
        self._renewal()
        self.events.sort(key=lambda event: str(event["occurred_at"]))

    def _directory(self) -> None:
        self._add(
            "account",
            {
                "type": "account",
                "account_id": self.account_id,
                "occurred_at": self._at(0, 0),
                "name": self.name,
                "segment": self.segment,
                "renewal_date": self.plan().renewal.isoformat(),
                "annual_value": self.annual_value,
            },
        )
        for person in self.people:
            self._add(
                "person",
                {
                    "type": "stakeholder",
                    "account_id": self.account_id,
                    "stakeholder_id": person.stakeholder_id,
                    "occurred_at": self._at(0, 0),
                    "role": person.role,
                    "side": person.side,
                    "influence": person.influence,
                },
            )

    def _onboarding(self) -> None:
        """A module rolled out some time in the first half: its users rate the onboarding a week or two later."""
        day = self.rng.randint(10, PERIOD_DAYS // 2)
        self._moment(day, 9, "onboarding", {"module": self.rng.choice(("reporting", "workflows", "api"))})
        for person in self._client(*USER_ROLES):
            if self._answers(person, day + 7, PULSE_FACTOR):
                answered = day + 7 + self._delay(7)
                self._answer(person, answered, "csat", self._csat(person, answered), dimension="onboarding")

    def _relationship_waves(self) -> None:
        """Quarterly relationship NPS to every client person; the account manager rates themself too."""
        first = self.rng.randint(5, 40)
        supplier = next(p for p in self.people if p.side == "supplier")
        for wave, day in enumerate(range(first, PERIOD_DAYS + 1, 91)):
            for person in self._client(*DECISION_ROLES, *USER_ROLES):
                if self._answers(person, day, wave=wave):
                    answered = day + self._delay()
                    if answered <= PERIOD_DAYS:
                        self._answer(person, answered, "nps", self._nps(person, answered))
            self._answer(supplier, day + self.rng.randint(0, 3), "nps", self.rng.choice((8, 9, 9, 10, 10)))

    def _pulses(self) -> None:
        """A monthly CSAT pulse to the users, on support or overall."""
        users = self._client(*USER_ROLES)
        offset = self.rng.randint(0, 29)
        for month in range(PERIOD_DAYS // 30 + 1):
            day = offset + round(month * 30.4)
            if day > PERIOD_DAYS:
                break
            extra = {"dimension": "support"} if self.rng.random() < 0.5 else {}
            for person in users:
                if self._answers(person, day, PULSE_FACTOR):
                    answered = min(PERIOD_DAYS, day + self._delay(5))
                    self._answer(person, answered, "csat", self._csat(person, answered), **extra)

    def _support(self) -> None:
        """Each ticket closed, and its CSAT on support (about 60% answered), which rates the ticket as much as us."""
        for ticket in self.tickets:
            ticket_id = f"{self.account_id}-T{ticket.number:03d}"
            priority = self.rng.choice(("low", "normal", "normal", "high"))
            self._moment(
                ticket.day,
                13,
                "support_close",
                {"ticket": ticket_id, "priority": priority},
                ticket.person.stakeholder_id,
            )
            if self.rng.random() < TICKET_ANSWER_RATE:
                answered = min(PERIOD_DAYS, ticket.day + self._delay(3))
                score = self._csat(ticket.person, answered, ticket.quality)
                self._answer(
                    ticket.person,
                    answered,
                    "csat",
                    score,
                    dimension="support",
                    moment="support_close",
                    response_id=ticket_id,
                )

    def _renewal(self) -> None:
        """Renewal approach (120 days before), a check-in NPS to the decision makers, then the outcome."""
        renewal, rng = self.renewal_day, self.rng
        if renewal - RENEWAL_APPROACH_BEFORE >= 0:
            self._moment(renewal - RENEWAL_APPROACH_BEFORE, 10, "renewal_approach", {})
        check_in = renewal - rng.randint(40, 55)
        for person in self._client(*DECISION_ROLES):
            answers = (
                rng.random() < SILENT_RETURN_RATE if person.silent is not None else self._answers(person, check_in)
            )
            if answers:
                answered = min(renewal - 1, check_in + self._delay(10))
                self._answer(person, answered, "nps", self._nps(person, answered))
        self._moment(renewal, 12, "renewal_outcome", {"outcome": self.outcome})
