"""The wall-clock sweep: re-evaluate every account as of now, so time-driven alerts fire unprompted.

A stakeholder who stops answering produces no event; a renewal date approaches without one. The
sweep runs the same rules as an event would, as of the wall clock, on top of the account's newest
evaluation point. What it finds is provisional: the next sweep and the account's next event take it
back and evaluate again (docs/model.md, "Event time"), and a reopened alert keeps its id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.assessment import Assessor
from services.analyzer.outbox import repository as outbox
from services.analyzer.repository import directory
from services.analyzer.requests import service as survey_requests

log = logging.getLogger(__name__)


async def sweep_once(
    sessions: async_sessionmaker[AsyncSession],
    assessor: Assessor,
    *,
    now: datetime | None = None,
    after_commit: Callable[[Sequence[str]], Awaitable[object]] | None = None,
    owns: Callable[[str], bool] | None = None,
    requests: survey_requests.RequestConfig | None = None,
) -> int:
    """Assess every account as of ``now`` (only those ``owns`` accepts, if given); return how many
    alert changes were recorded. With ``requests``, also expire overdue survey requests and ask on cadence."""
    now = now or datetime.now(UTC)
    async with sessions() as session:
        account_ids = await directory.modelled_account_ids(session)
    changed = 0
    for account_id in account_ids:
        if owns is not None and not owns(account_id):
            continue
        async with sessions() as session, session.begin():
            changes = await assessor.sweep(session, account_id, now=now)
            changed += len(changes)
            if requests is not None:
                await session.flush()
                await survey_requests.sweep_account(session, assessor, requests, account_id, now=now)
            await session.flush()
            queued = outbox.enqueued(session)
        if after_commit is not None and queued:
            await after_commit(queued)
    return changed


async def sweep_forever(
    sessions: async_sessionmaker[AsyncSession],
    assessor: Assessor,
    *,
    interval_s: float,
    after_commit: Callable[[Sequence[str]], Awaitable[object]],
    owns: Callable[[], Callable[[str], bool] | None] | None = None,
    requests: survey_requests.RequestConfig | None = None,
) -> None:
    """Sweep every ``interval_s`` seconds; errors are logged and the next sweep tries again.

    With several analyzer processes, ``owns`` gives each sweep the accounts of the partitions this
    member holds (None: it holds none right now, so it skips this round), so every account is
    swept by exactly one member.
    """
    while True:
        await asyncio.sleep(interval_s)
        try:
            mine = owns() if owns is not None else (lambda _: True)
            if mine is None:
                continue
            changed = await sweep_once(sessions, assessor, after_commit=after_commit, owns=mine, requests=requests)
            log.info("sweep done", extra={"alert_changes": changed})
        except Exception:
            log.exception("sweep failed; retrying at the next interval")
