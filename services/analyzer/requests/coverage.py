"""How well an account is covered: which roles and decision makers were heard and how recently, and how
often the people asked answer, by role and by moment. Pure: people and requests in, figures out.

A response rate counts the requests that are decided: fulfilled over fulfilled plus expired. A pending
request is neither yet, so it counts in no rate (it is shown apart).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.analyzer.requests.choosing import UNASSIGNED, Person
from services.analyzer.requests.schemas import RequestStatus


@dataclass(frozen=True, slots=True)
class RequestFact:
    """One request as coverage reads it."""

    role: str
    moment: str
    status: str  # a RequestStatus value, as of now


@dataclass(frozen=True, slots=True)
class Tally:
    """Requests made, fulfilled, expired and still pending, and the response rate."""

    asked: int
    fulfilled: int
    expired: int
    pending: int

    @property
    def response_rate(self) -> float | None:
        """Fulfilled over decided (fulfilled + expired); None while none is decided."""
        decided = self.fulfilled + self.expired
        return None if decided == 0 else self.fulfilled / decided


@dataclass(frozen=True, slots=True)
class RoleCoverage:
    """One client role: its people, how many were heard recently, when last, and its requests."""

    role: str
    people: int
    heard: int
    last_heard_at: datetime | None
    requests: Tally


@dataclass(frozen=True, slots=True)
class DecisionMakerCoverage:
    """One decision maker: when last heard, and whether recently enough."""

    stakeholder_id: str
    role: str
    last_heard_at: datetime | None
    heard: bool
    contactable: bool


@dataclass(frozen=True, slots=True)
class Coverage:
    """An account's coverage as of ``as_of``."""

    as_of: datetime
    heard_within: timedelta
    roles: tuple[RoleCoverage, ...]
    decision_makers: tuple[DecisionMakerCoverage, ...]
    moments: tuple[tuple[str, Tally], ...]
    requests: Tally


def tally(requests: Iterable[RequestFact]) -> Tally:
    """Count requests by status."""
    statuses = [r.status for r in requests]
    return Tally(
        asked=len(statuses),
        fulfilled=statuses.count(RequestStatus.FULFILLED),
        expired=statuses.count(RequestStatus.EXPIRED),
        pending=statuses.count(RequestStatus.PENDING),
    )


def coverage(
    people: Sequence[Person], requests: Sequence[RequestFact], *, now: datetime, heard_within: timedelta
) -> Coverage:
    """The account's coverage: client people with a role; heard = an answer within ``heard_within``."""

    def heard(person: Person) -> bool:
        return person.last_answer_at is not None and now - person.last_answer_at <= heard_within

    clients = [p for p in people if p.side == "client" and p.role != UNASSIGNED]
    roles = []
    for role in sorted({p.role for p in clients} | {r.role for r in requests}):
        members = [p for p in clients if p.role == role]
        answered = [p.last_answer_at for p in members if p.last_answer_at is not None]
        roles.append(
            RoleCoverage(
                role=role,
                people=len(members),
                heard=sum(heard(p) for p in members),
                last_heard_at=max(answered) if answered else None,
                requests=tally(r for r in requests if r.role == role),
            )
        )
    deciders = tuple(
        DecisionMakerCoverage(p.stakeholder_id, p.role, p.last_answer_at, heard(p), p.contactable)
        for p in sorted(clients, key=lambda p: p.stakeholder_id)
        if p.decision_maker
    )
    moments = tuple(
        (moment, tally(r for r in requests if r.moment == moment)) for moment in sorted({r.moment for r in requests})
    )
    return Coverage(now, heard_within, tuple(roles), deciders, moments, tally(requests))
