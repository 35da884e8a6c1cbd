"""Queries of an erasure: who an id names, what they left, the deletes, the redactions, the record."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from services.analyzer.db.models import (
    AlertRow,
    Erasure,
    ErasureSubject,
    JourneyMomentRow,
    OutboxMessage,
    Response,
    Stakeholder,
    StakeholderAlias,
    UnattributedAnswer,
    UnattributedIdentity,
    UnverifiedAnswer,
)
from services.analyzer.db.plan_models import ActionPlan, PlanNote
from services.analyzer.db.request_models import SurveyRequest
from services.analyzer.db.webhook_models import Delivery
from services.analyzer.people.redaction import Needles, normalise, subject_hash

Person = tuple[str, str]  # (account_id, stakeholder_id)

# Any constant shared by every analyzer: the erasure takes it exclusively, a consumer batch shared
# (PostgreSQL advisory locks; SQLite has one writer at a time and needs none).
ERASURE_LOCK = 0x5EED_E2A5


async def lock_out_batches(session: AsyncSession) -> None:
    """Wait for the consumer batches under way to commit, and keep new ones waiting until this commits."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ERASURE_LOCK})


async def hold_against_erasure(session: AsyncSession) -> None:
    """A consumer batch: let no erasure commit between reading the erasure records and committing."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": ERASURE_LOCK})


async def people_named(session: AsyncSession, identifier: str) -> list[Person]:
    """Every (account, person) whose id or one of whose aliases is ``identifier`` (case-insensitive)."""
    wanted = normalise(identifier).lower()
    direct = select(Stakeholder.account_id, Stakeholder.stakeholder_id).where(
        func.lower(Stakeholder.stakeholder_id) == wanted
    )
    aliased = select(StakeholderAlias.account_id, StakeholderAlias.stakeholder_id).where(
        func.lower(StakeholderAlias.alias) == wanted
    )
    found = {(a, s) for a, s in (await session.execute(direct)).all()}
    found |= {(a, s) for a, s in (await session.execute(aliased)).all()}
    return sorted(found)


@dataclass
class Traces:
    """What identifies the people to erase: their ids and aliases, names and comments."""

    identifiers: set[str]
    names: set[str]
    comments: set[str]


async def people_hashed(session: AsyncSession, hashes: set[str]) -> list[Person]:
    """Every (account, person) one of whose ids or aliases has one of ``hashes`` (an erasure replayed)."""
    found: set[Person] = set()
    for account_id, sid in (await session.execute(select(Stakeholder.account_id, Stakeholder.stakeholder_id))).all():
        if subject_hash(sid) in hashes:
            found.add((account_id, sid))
    aliases = select(StakeholderAlias.alias, StakeholderAlias.account_id, StakeholderAlias.stakeholder_id)
    for alias, account_id, sid in (await session.execute(aliases)).all():
        if subject_hash(alias) in hashes:
            found.add((account_id, sid))
    return sorted(found)


async def traces_of(session: AsyncSession, people: Sequence[Person], identifier: str | None) -> Traces:
    """Read every id, alias, name and comment of ``people`` (plus the id they were asked by, if any)."""
    found = Traces({identifier} if identifier is not None else set(), set(), set())
    if not people:
        return found
    keys = tuple_(Stakeholder.account_id, Stakeholder.stakeholder_id).in_(people)
    for sid, name in (await session.execute(select(Stakeholder.stakeholder_id, Stakeholder.name).where(keys))).all():
        found.identifiers.add(sid)
        if name:
            found.names.add(name)
    alias_keys = tuple_(StakeholderAlias.account_id, StakeholderAlias.stakeholder_id).in_(people)
    found.identifiers |= set(await session.scalars(select(StakeholderAlias.alias).where(alias_keys)))
    answer_keys = tuple_(Response.account_id, Response.stakeholder_id).in_(people)
    comments = select(Response.comment).where(answer_keys, Response.comment.is_not(None))
    found.comments |= {c for c in await session.scalars(comments) if c}
    return found


async def delete_people(session: AsyncSession, people: Sequence[Person]) -> dict[str, int]:
    """Delete the people's directory entries, aliases, answers and survey requests; detach them from journey moments."""
    if not people:
        return {"people": 0, "answers": 0, "aliases": 0, "moments": 0, "survey_requests": 0}
    answers = await session.execute(
        delete(Response).where(tuple_(Response.account_id, Response.stakeholder_id).in_(people))
    )
    aliases = await session.execute(
        delete(StakeholderAlias).where(tuple_(StakeholderAlias.account_id, StakeholderAlias.stakeholder_id).in_(people))
    )
    moments = await session.execute(
        update(JourneyMomentRow)
        .where(tuple_(JourneyMomentRow.account_id, JourneyMomentRow.stakeholder_id).in_(people))
        .values(stakeholder_id=None)
    )
    requests = await session.execute(
        delete(SurveyRequest).where(tuple_(SurveyRequest.account_id, SurveyRequest.stakeholder_id).in_(people))
    )
    gone = await session.execute(
        delete(Stakeholder).where(tuple_(Stakeholder.account_id, Stakeholder.stakeholder_id).in_(people))
    )
    return {
        "people": _count(gone),
        "answers": _count(answers),
        "aliases": _count(aliases),
        "moments": _count(moments),
        "survey_requests": _count(requests),
    }


async def delete_unattributed(session: AsyncSession, identifiers: Iterable[str]) -> int:
    """Delete the vendor answers waiting for a person that name any of ``identifiers``."""
    wanted = sorted({normalise(i).lower() for i in identifiers})
    event_ids = list(
        await session.scalars(
            select(UnattributedIdentity.event_id)
            .where(UnattributedIdentity.kind == "stakeholder", func.lower(UnattributedIdentity.identity).in_(wanted))
            .distinct()
        )
    )
    if not event_ids:
        return 0
    await session.execute(delete(UnattributedIdentity).where(UnattributedIdentity.event_id.in_(event_ids)))
    await session.execute(delete(UnattributedAnswer).where(UnattributedAnswer.event_id.in_(event_ids)))
    return len(event_ids)


async def delete_unverified(session: AsyncSession, people: Sequence[Person], identifiers: Iterable[str]) -> int:
    """Delete the unverified answers held for the people, or naming one of their ids."""
    wanted = sorted({normalise(i).lower() for i in identifiers})
    named = func.lower(UnverifiedAnswer.stakeholder_id).in_(wanted)
    theirs = tuple_(UnverifiedAnswer.account_id, UnverifiedAnswer.stakeholder_id).in_(people) if people else None
    condition = or_(named, theirs) if theirs is not None else named
    return _count(await session.execute(delete(UnverifiedAnswer).where(condition)))


async def redact_accounts(session: AsyncSession, accounts: Sequence[str], needles: Needles) -> dict[str, int]:
    """Redact the people's traces from the rows that stay: alerts, moments, outbox records, webhook bodies."""
    counts = {"alerts": 0, "plans": 0, "moments": 0, "unverified": 0, "outbox": 0, "deliveries": 0}
    if not accounts or not needles:
        return counts
    for alert in await session.scalars(select(AlertRow).where(AlertRow.account_id.in_(accounts))):
        changed = _redact_json(alert, "record", needles)
        for column in ("key", "note", "acknowledged_by", "resolved_by"):
            value = getattr(alert, column)
            if value is not None and needles.found_in(value):
                setattr(alert, column, needles.text(value))
                changed = True
        counts["alerts"] += changed
    counts["plans"] = await _redact_plans(session, accounts, needles)
    moments = select(JourneyMomentRow).where(JourneyMomentRow.account_id.in_(accounts))
    for moment in await session.scalars(moments):
        counts["moments"] += _redact_json(moment, "attributes", needles)
    for answer in await session.scalars(select(UnverifiedAnswer).where(UnverifiedAnswer.account_id.in_(accounts))):
        counts["unverified"] += _redact_json(answer, "event", needles)
    for message in await session.scalars(select(OutboxMessage).where(OutboxMessage.key.in_(accounts))):
        changed = _redact_json(message, "value", needles)
        if needles.found_in(message.message_id):
            message.message_id = needles.text(message.message_id)
            changed = True
        counts["outbox"] += changed
    mentions = or_(*(Delivery.body.contains(account_id) for account_id in accounts))
    for delivery in await session.scalars(select(Delivery).where(mentions)):
        redacted = needles.text(delivery.body)
        if redacted != delivery.body:
            delivery.body = redacted
            counts["deliveries"] += 1
    return counts


async def has_erasure(session: AsyncSession, erasure_id: str) -> bool:
    """Whether this database holds the erasure."""
    return await session.get(Erasure, erasure_id) is not None


def record(session: AsyncSession, erasure: Erasure, hashes: Iterable[str]) -> None:
    """Keep the erasure and the hash of every id the person was known by."""
    session.add(erasure)
    for digest in sorted(set(hashes)):
        session.add(ErasureSubject(subject_hash=digest, erasure_id=erasure.erasure_id, erased_at=erasure.erased_at))


async def erased_since(session: AsyncSession, identifiers: Iterable[str]) -> dict[str, datetime]:
    """For each of ``identifiers`` that names an erased person: when they were last erased."""
    by_hash: dict[str, list[str]] = {}
    for identifier in identifiers:
        by_hash.setdefault(subject_hash(identifier), []).append(identifier)
    if not by_hash:
        return {}
    rows = await session.execute(
        select(ErasureSubject.subject_hash, func.max(ErasureSubject.erased_at))
        .where(ErasureSubject.subject_hash.in_(sorted(by_hash)))
        .group_by(ErasureSubject.subject_hash)
    )
    return {identifier: at for digest, at in rows.all() for identifier in by_hash[digest]}


async def _redact_plans(session: AsyncSession, accounts: Sequence[str], needles: Needles) -> int:
    """Redact the people from action plans (owner, steps) and their notes (author, text); how many plans."""
    redacted = 0
    plans = list(await session.scalars(select(ActionPlan).where(ActionPlan.account_id.in_(accounts))))
    for plan in plans:
        changed = _redact_json(plan, "steps", needles)
        if needles.found_in(plan.owner):
            plan.owner = needles.text(plan.owner)
            changed = True
        for note in await session.scalars(select(PlanNote).where(PlanNote.plan_id == plan.plan_id)):
            for column in ("by", "text"):
                value = getattr(note, column)
                if needles.found_in(value):
                    setattr(note, column, needles.text(value))
                    changed = True
        redacted += changed
    return redacted


def _redact_json(row: Any, column: str, needles: Needles) -> bool:
    value = getattr(row, column)
    redacted = needles.json(value)
    if redacted == value:
        return False
    setattr(row, column, redacted)
    flag_modified(row, column)
    return True


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
