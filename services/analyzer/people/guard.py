"""The consumer's side of an erasure: a record naming an erased person, published before the erasure,
is not applied (a replay, a rebuild into a database that kept the erasure record, a record in flight)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.people import repository
from shared.events import AccountEvent, Event, JourneyMoment, StakeholderEvent, SurveyResponse


def identifiers_of(event: Event) -> list[str]:
    """The ids under which ``event`` names a person."""
    match event:
        case SurveyResponse():
            named = [event.stakeholder_id] if event.stakeholder_id else []
            return named + (list(event.identities.stakeholder) if event.identities else [])
        case StakeholderEvent():
            return [event.stakeholder_id, *event.aliases]
        case JourneyMoment():
            return [event.stakeholder_id] if event.stakeholder_id else []
        case AccountEvent():
            return []


async def erased_among(session: AsyncSession, events: Sequence[tuple[Event, int | None]]) -> tuple[set[int], set[int]]:
    """Of ``(event, published at in ms)`` pairs: the indexes to skip, and the moments to strip of their person.

    A record naming an id erased after it was published is about the erased person. A journey moment
    is the account's fact, so it is kept without its person; anything else is skipped. A record
    without a publication time counts as published before.
    """
    named = {i: identifiers_of(event) for i, (event, _) in enumerate(events)}
    erased = await repository.erased_since(session, {i for ids in named.values() for i in ids})
    if not erased:
        return set(), set()
    skip: set[int] = set()
    strip: set[int] = set()
    for index, (event, published_ms) in enumerate(events):
        published = datetime.fromtimestamp(published_ms / 1000, UTC) if published_ms is not None else None
        if any(i in erased and (published is None or published <= erased[i]) for i in named[index]):
            (strip if isinstance(event, JourneyMoment) else skip).add(index)
    return skip, strip
