"""Erase a person (GDPR Art. 17): their data leaves every table, their accounts are recomputed without
them, their data keys on Kafka are destroyed, and a record without personal data remembers the erasure.

The order matters:
1. Read who the id names (their ids, aliases, names, comments) in a short transaction.
2. Destroy the data keys of their records on the events topic (docs/operations.md, "Personal data on
   the events topic"), outside any transaction: Kafka is the network. If that fails, nothing in the
   database has changed and the call can be repeated.
3. In one transaction, holding every consumer batch off (``repository.lock_out_batches``): delete their
   rows, recompute their accounts from what remains (states, positions, alerts: an alert about them
   resolves), redact what identified them from the rows that stay, record the erasure, and queue the
   record for the erasures topic (through the outbox, so it is published once the transaction commits).

Records naming them that were published before the erasure (in flight, replayed, or read by a rebuild)
are skipped by the consumer (``guard.erased_among``). The erasures topic outlives the database: an
analyzer whose database lacks an erasure on the topic (a restored backup, a rebuild) applies it again at
start (``replay_erasures``), finding the person by the hashes of their ids.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer import changes
from services.analyzer.assessment import Assessor, plan_of
from services.analyzer.db.models import Erasure
from services.analyzer.outbox import repository as outbox
from services.analyzer.people import repository
from services.analyzer.people.redaction import Needles, subject_hash

log = logging.getLogger(__name__)


class ShreddingFailed(RuntimeError):
    """Kafka did not take the tombstones of the person's data keys; the database is unchanged."""


class KeyShredder(Protocol):
    """What destroys the data keys that seal a person's records on the events topic."""

    async def shred_subjects(self, ids: Iterable[str]) -> int:
        """Destroy every key whose subjects include one of ``ids``; return how many."""
        ...


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did (no personal data: counts, the accounts touched, the record's id)."""

    erasure_id: str
    erased_at: datetime
    erased_by: str
    accounts: list[str]
    counts: dict[str, int] = field(default_factory=dict)


async def erase(
    sessions: async_sessionmaker[AsyncSession],
    writer_sessions: async_sessionmaker[AsyncSession],
    assessor: Assessor,
    identifier: str,
    *,
    by: str,
    shredder: KeyShredder | None,
    now: datetime | None = None,
) -> ErasureReport:
    """Erase the person ``identifier`` names (a stakeholder id or any alias, e.g. an e-mail), everywhere."""
    erased_at = now or datetime.now(UTC)
    async with sessions() as session:
        people = await repository.people_named(session, identifier)
        traces = await repository.traces_of(session, people, identifier)
    shredded = await _shred(shredder, traces.identifiers)

    report = ErasureReport(uuid.uuid4().hex, erased_at, by, [])
    async with writer_sessions() as session, session.begin():
        await repository.lock_out_batches(session)
        # Read again under the lock: a batch may have added an alias or an answer since.
        people = await repository.people_named(session, identifier)
        again = await repository.traces_of(session, people, identifier)
        late = again.identifiers - traces.identifiers
        counts = await _remove(session, assessor, people, again, earlier=traces, now=erased_at)
        counts["keys_destroyed"] = shredded
        hashes = {subject_hash(i) for i in again.identifiers | traces.identifiers}
        erasure = Erasure(erasure_id=report.erasure_id, erased_at=erased_at, erased_by=by, counts=counts)
        repository.record(session, erasure, hashes)
        changes.record(session, key_id=by, action="person.erase", target=erasure.erasure_id)
        outbox.enqueue(
            session,
            message_id=f"erasure:{erasure.erasure_id}",
            topic=assessor.topics.erasures,
            key=erasure.erasure_id,
            value=erasure_record(erasure, hashes),
        )
    if late:
        # Ids a batch added while the keys were destroyed: the erasure record already skips their records.
        try:
            counts["keys_destroyed"] += await _shred(shredder, late)
        except ShreddingFailed:
            log.warning("data keys of late ids not destroyed", extra={"erasure_id": report.erasure_id}, exc_info=True)
    report.accounts.extend(sorted({account_id for account_id, _ in people}))
    report.counts.update(counts)
    log.info("person erased", extra={"erasure_id": report.erasure_id, "by": by, "counts": counts})
    return report


def erasure_record(erasure: Erasure, hashes: Iterable[str]) -> dict[str, Any]:
    """The record of an erasure on the erasures topic: the hashes of the ids, never the ids."""
    return {
        "erasure_id": erasure.erasure_id,
        "erased_at": erasure.erased_at.isoformat(),
        "erased_by": erasure.erased_by,
        "subjects": sorted(hashes),
    }


async def replay_erasures(
    writer_sessions: async_sessionmaker[AsyncSession], assessor: Assessor, records: Sequence[dict[str, Any]]
) -> int:
    """Apply the erasures of the erasures topic this database does not hold yet; return how many.

    The person is found by the hashes of their ids. Their data keys were destroyed by the first
    erasure, so nothing is asked of Kafka.
    """
    applied = 0
    for value in records:
        erasure_id = str(value["erasure_id"])
        hashes = {str(h) for h in value["subjects"]}
        async with writer_sessions() as session, session.begin():
            await repository.lock_out_batches(session)
            if await repository.has_erasure(session, erasure_id):
                continue
            erased_at = datetime.fromisoformat(str(value["erased_at"]))
            people = await repository.people_hashed(session, hashes)
            traces = await repository.traces_of(session, people, None)
            counts = await _remove(session, assessor, people, traces, now=erased_at)
            counts["replayed"] = 1
            by = str(value["erased_by"])
            erasure = Erasure(erasure_id=erasure_id, erased_at=erased_at, erased_by=by, counts=counts)
            repository.record(session, erasure, hashes)
        applied += 1
        log.info("erasure applied again from the erasures topic", extra={"erasure_id": erasure_id, "counts": counts})
    return applied


async def _remove(
    session: AsyncSession,
    assessor: Assessor,
    people: Sequence[repository.Person],
    traces: repository.Traces,
    *,
    now: datetime,
    earlier: repository.Traces | None = None,
) -> dict[str, int]:
    """Delete the people's rows, recompute their accounts and redact what identified them; the counts."""
    counts = await repository.delete_people(session, people)
    counts["unattributed"] = await repository.delete_unattributed(session, traces.identifiers)
    counts["unverified"] = await repository.delete_unverified(session, people, traces.identifiers)
    accounts = sorted({account_id for account_id, _ in people})
    await _recompute(session, assessor, accounts, now=now)
    names, comments = traces.names, traces.comments
    if earlier is not None:
        names, comments = names | earlier.names, comments | earlier.comments
    needles = Needles.of(traces.identifiers, names, comments)
    for name, count in (await repository.redact_accounts(session, accounts, needles)).items():
        counts[f"redacted_{name}"] = count
    return counts


async def _shred(shredder: KeyShredder | None, identifiers: Iterable[str]) -> int:
    if shredder is None:
        return 0
    try:
        return await shredder.shred_subjects(sorted(identifiers))
    except Exception as exc:  # Kafka's errors, timeouts, a closed client: the caller retries the erasure
        raise ShreddingFailed(str(exc)) from exc


async def _recompute(session: AsyncSession, assessor: Assessor, accounts: Sequence[str], *, now: datetime) -> None:
    """Recompute the accounts' states and alert timelines from the events that remain."""
    await session.flush()
    plan = plan_of(session)
    plan.replay.update(accounts)
    await assessor.finish(session, now=now)
    await session.flush()
