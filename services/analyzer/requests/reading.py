"""An account's coverage and survey requests as read now: what ``GET /v1/accounts/{id}/coverage`` answers
and the dashboard shows, gathered in one place so both read the same figures.

The figures themselves are pure (``coverage``); this module only reads the people, their last answers and
the requests, and judges each request's status as of ``now``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import Stakeholder
from services.analyzer.db.request_models import SurveyRequest
from services.analyzer.repository import directory
from services.analyzer.requests import repository
from services.analyzer.requests.choosing import Person
from services.analyzer.requests.coverage import Coverage, RequestFact, coverage
from services.analyzer.requests.service import decides, people_of


@dataclass(frozen=True, slots=True)
class RequestLine:
    """One survey request and its status as of the reading (a pending one past its expiry reads expired)."""

    row: SurveyRequest
    status: str


@dataclass(frozen=True, slots=True)
class AccountCoverage:
    """An account's coverage and every request it was made, newest first."""

    coverage: Coverage
    requests: tuple[RequestLine, ...]


@dataclass(frozen=True, slots=True)
class DecisionMakersHeard:
    """How many of an account's decision makers were heard recently, out of how many."""

    heard: int
    total: int


async def account_coverage(
    session: AsyncSession, account_id: str, *, decision_roles: frozenset[str], heard_within: timedelta, now: datetime
) -> AccountCoverage:
    """The account's coverage as of ``now`` (heard: an answer within ``heard_within``) and its requests."""
    rows = await repository.account_requests(session, account_id)
    stakeholders = await directory.list_stakeholders(session, account_id)
    people = await people_of(session, account_id, stakeholders, rows, decision_roles, now)
    lines = tuple(RequestLine(r, repository.effective_status(r, now)) for r in rows)
    facts = [RequestFact(line.row.role, line.row.moment, line.status) for line in lines]
    found = coverage(people, facts, now=now, heard_within=heard_within)
    # Newest first, ties by id: the order of GET /v1/survey-requests (a stable sort on the id-ordered rows).
    by_id = sorted(lines, key=lambda line: line.row.request_id)
    newest_first = sorted(by_id, key=lambda line: line.row.created_at, reverse=True)
    return AccountCoverage(found, tuple(newest_first))


def _people(
    rows: Sequence[Stakeholder], answered: Mapping[str, datetime], decision_roles: frozenset[str]
) -> list[Person]:
    return [
        Person(
            stakeholder_id=r.stakeholder_id,
            role=r.role,
            side=r.side,
            decision_maker=decides(r, decision_roles),
            contactable=r.contactable is not False,
            last_answer_at=answered.get(r.stakeholder_id),
        )
        for r in rows
    ]


async def decision_makers_heard(
    session: AsyncSession,
    account_ids: Collection[str],
    *,
    decision_roles: frozenset[str],
    heard_within: timedelta,
    now: datetime,
) -> dict[str, DecisionMakersHeard]:
    """Per account (two queries for all of them), its decision makers heard within ``heard_within`` and all."""
    people = await repository.people_of_accounts(session, account_ids)
    answers = await repository.last_answers_of_accounts(session, account_ids)
    found: dict[str, DecisionMakersHeard] = {}
    for account_id in account_ids:
        persons = _people(people.get(account_id, []), answers.get(account_id, {}), decision_roles)
        deciders = coverage(persons, [], now=now, heard_within=heard_within).decision_makers
        found[account_id] = DecisionMakersHeard(sum(d.heard for d in deciders), len(deciders))
    return found
