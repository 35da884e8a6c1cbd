"""Erase a person (GDPR Art. 17): their data leaves every table, their accounts are recomputed without
them, their data keys on Kafka are destroyed, and a record without personal data remembers the erasure.

The order matters:
1. Read who the id names (their ids, aliases, names, comments) in a short transaction.
2. Destroy the data keys of their records on the events topic (docs/operations.md, "Personal data on
   the events topic"), outside any transaction: Kafka is the network. If that fails, nothing in the
   database has changed and the call can be repeated.
3. In one transaction, holding every consumer batch off (``repository.lock_out_batches``): delete their
   rows, recompute their accounts from what remains (states, positions, alerts: an alert about them
   resolves), redact what identified them from the rows that stay, and record the erasure.

Records naming them that were published before the erasure (in flight, replayed, or read by a rebuild
into a database that kept the erasure record) are skipped by the consumer (``skip_erased``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.assessment import Assessor, plan_of
from services.analyzer.db.models import Erasure
from services.analyzer.people import repository
from services.analyzer.people.redaction import Needles

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
        counts = await repository.delete_people(session, people)
        counts["unattributed"] = await repository.delete_unattributed(session, again.identifiers)
        accounts = sorted({account_id for account_id, _ in people})
        await _recompute(session, assessor, accounts, now=erased_at)
        needles = Needles.of(again.identifiers, again.names | traces.names, again.comments | traces.comments)
        for name, count in (await repository.redact_accounts(session, accounts, needles)).items():
            counts[f"redacted_{name}"] = count
        counts["keys_destroyed"] = shredded
        erasure = Erasure(erasure_id=report.erasure_id, erased_at=erased_at, erased_by=by, counts=counts)
        repository.record(session, erasure, again.identifiers | traces.identifiers)
    if late:
        # Ids a batch added while the keys were destroyed: the erasure record already skips their records.
        try:
            counts["keys_destroyed"] += await _shred(shredder, late)
        except ShreddingFailed:
            log.warning("data keys of late ids not destroyed", extra={"erasure_id": report.erasure_id}, exc_info=True)
    report.accounts.extend(accounts)
    report.counts.update(counts)
    log.info("person erased", extra={"erasure_id": report.erasure_id, "by": by, "counts": counts})
    return report


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
    plan.rebuild.update(accounts)
    await assessor.finish(session, now=now)
    await session.flush()
