"""Whom in an account to ask now, and why: pure, from what the account's people, roles and alerts show.

Reasons, in the order they are served when the weekly cap leaves room for only some (docs/model.md,
"Survey requests: whom to ask"):

1. ``moment_participant``: the person the journey moment is about (whose ticket closed), while it is fresh.
2. ``decision_maker_unheard``: someone who decides the renewal and was never heard, or not for longer
   than ``silent_after``: the opinion that decides the renewal is the one most often missing.
3. ``alert_subject``: a person an open alert names (a silent stakeholder, a position drop).
4. ``divergence_side``: the people of the roles on the two sides of an open divergence, to confirm or
   refute the split with fresh answers.
5. ``role_unmeasured``: the people of a client role with no position that survives the noise (no answer,
   too little confidence to count in a divergence, or a standard error above ``role_max_se``).

Nobody is asked who may not be contacted, who is on the supplier side, who holds a pending request, or
who was asked or answered within ``min_interval``; and an account gets at most ``weekly_cap`` requests
in any seven days.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal, get_args

from services.analyzer.model.positions import UNASSIGNED as UNASSIGNED  # re-exported for coverage and the service

Reason = Literal[
    "moment_participant",
    "decision_maker_unheard",
    "alert_subject",
    "divergence_side",
    "role_unmeasured",
    "plan_follow_up",
]
# ``plan_follow_up`` is never chosen here: a done action plan asks for it (``service.follow_up``).
REASONS: Final[tuple[Reason, ...]] = get_args(Reason)


@dataclass(frozen=True, slots=True)
class Policy:
    """How often and whom the analyzer may ask (the ``SURVEY_REQUEST_*`` settings)."""

    min_interval: timedelta = timedelta(days=30)
    weekly_cap: int = 5
    silent_after: timedelta = timedelta(days=90)
    role_max_se: float = 0.35
    min_role_confidence: float = 0.25


@dataclass(frozen=True, slots=True)
class Person:
    """One person of the account as the choice reads them."""

    stakeholder_id: str
    role: str
    side: str = "client"
    decision_maker: bool = False
    contactable: bool = True
    last_answer_at: datetime | None = None
    last_asked_at: datetime | None = None
    pending: bool = False  # holds a request not yet fulfilled nor expired


@dataclass(frozen=True, slots=True)
class RoleReading:
    """A client role's pooled position as the model reads it now: how sure, how noisy."""

    role: str
    confidence: float
    se: float


@dataclass(frozen=True, slots=True)
class Situation:
    """Everything the choice reads about one account at one moment."""

    now: datetime
    people: Sequence[Person]
    roles: Mapping[str, RoleReading] = field(default_factory=dict)
    # Roles on the two sides of an open divergence alert, with the alert type that names them.
    divergence_roles: Mapping[str, str] = field(default_factory=dict)
    # People an open alert names, with the alert type.
    alert_people: Mapping[str, str] = field(default_factory=dict)
    participant: str | None = None  # the person the moment is about, if it names one
    asked_this_week: int = 0


@dataclass(frozen=True, slots=True)
class Choice:
    """One person to ask, the main reason, and a sentence saying why."""

    stakeholder_id: str
    role: str
    decision_maker: bool
    reason: Reason
    detail: str


def last_contact(person: Person) -> datetime | None:
    """When the person was last asked or last answered, whichever is later."""
    times = [t for t in (person.last_answer_at, person.last_asked_at) if t is not None]
    return max(times) if times else None


def may_ask(person: Person, now: datetime, policy: Policy) -> bool:
    """Whether the person may be asked now: contactable, a client, no pending request, not contacted lately."""
    if not person.contactable or person.side != "client" or person.pending:
        return False
    contact = last_contact(person)
    return contact is None or now - contact >= policy.min_interval


def role_measured(reading: RoleReading | None, policy: Policy) -> bool:
    """Whether a role's position survives the noise: confident enough to count, and precise enough."""
    if reading is None:
        return False
    return (
        reading.confidence >= policy.min_role_confidence
        and math.isfinite(reading.se)
        and (reading.se <= policy.role_max_se)
    )


def _days(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 86_400))


def reasons_for(person: Person, situation: Situation, policy: Policy) -> list[tuple[Reason, str]]:
    """Every reason to ask ``person`` now (in ``REASONS`` order) with its sentence; empty: no reason."""
    found: list[tuple[Reason, str]] = []
    now = situation.now
    if situation.participant == person.stakeholder_id:
        found.append(("moment_participant", "the journey moment is about them"))
    assigned = person.role != UNASSIGNED
    if assigned and person.decision_maker:
        if person.last_answer_at is None:
            found.append(("decision_maker_unheard", "decides the renewal and was never heard"))
        elif now - person.last_answer_at > policy.silent_after:
            days = _days(now - person.last_answer_at)
            found.append(("decision_maker_unheard", f"decides the renewal and was last heard {days} days ago"))
    if person.stakeholder_id in situation.alert_people:
        found.append(("alert_subject", f"an open {situation.alert_people[person.stakeholder_id]} alert names them"))
    if assigned and person.role in situation.divergence_roles:
        alert_type = situation.divergence_roles[person.role]
        found.append(("divergence_side", f"their role ({person.role}) is one side of an open {alert_type} alert"))
    if assigned and not role_measured(situation.roles.get(person.role), policy):
        found.append(("role_unmeasured", f"their role ({person.role}) has no position that survives the noise"))
    return found


def choose(situation: Situation, policy: Policy) -> list[Choice]:
    """The people to ask now, most needed first, at most what the weekly cap leaves.

    Within a reason, people never heard come first, then those heard longest ago; people of the same
    role take turns (the first of each role, then the second, ...), so one large role does not use up
    the cap.
    """
    room = max(0, policy.weekly_cap - situation.asked_this_week)
    if room == 0:
        return []
    ranked: list[tuple[int, int, float, str, Choice]] = []
    turns: dict[tuple[Reason, str], int] = {}
    eligible = [p for p in situation.people if may_ask(p, situation.now, policy)]
    for person in sorted(eligible, key=lambda p: (_heard_key(p), p.stakeholder_id)):
        found = reasons_for(person, situation, policy)
        if not found:
            continue
        reason, detail = found[0]
        turn = turns.get((reason, person.role), 0)
        turns[(reason, person.role)] = turn + 1
        choice = Choice(person.stakeholder_id, person.role, person.decision_maker, reason, detail)
        ranked.append((REASONS.index(reason), turn, _heard_key(person), person.stakeholder_id, choice))
    ranked.sort(key=lambda entry: entry[:4])
    return [entry[4] for entry in ranked[:room]]


def _heard_key(person: Person) -> float:
    # Never heard sorts first, then the oldest answer.
    return -math.inf if person.last_answer_at is None else person.last_answer_at.timestamp()


def open_alert_targets(
    alerts: Iterable[tuple[str, Sequence[Mapping[str, object]]]],
) -> tuple[dict[str, str], dict[str, str]]:
    """From open alerts ``(type, positions)``: the people they name, and the client roles of divergence alerts.

    A position entry with a ``stakeholder_id`` names that person; one without names a role, which is a
    side of the split in the divergence alerts (``DIVERGENCE_TYPES``).
    """
    people: dict[str, str] = {}
    roles: dict[str, str] = {}
    for alert_type, positions in alerts:
        for entry in positions:
            if entry.get("side", "client") != "client":
                continue
            person, role = entry.get("stakeholder_id"), entry.get("role")
            if isinstance(person, str):
                people.setdefault(person, alert_type)
            elif isinstance(role, str) and alert_type in DIVERGENCE_TYPES:
                roles.setdefault(role, alert_type)
    return people, roles


DIVERGENCE_TYPES: Final = frozenset({"stakeholder_divergence", "divergence_widening", "masked_by_average"})
