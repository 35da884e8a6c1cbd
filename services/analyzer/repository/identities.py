"""Queries that resolve vendor identities against the directory, and the unattributed answers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import (
    Account,
    AccountAlias,
    Stakeholder,
    StakeholderAlias,
    UnattributedAnswer,
    UnattributedIdentity,
)
from services.analyzer.repository.unit_of_work import batch_of


async def account_for(session: AsyncSession, identity: str) -> str | None:
    """The account an id or alias names, if the directory knows it."""
    state = batch_of(session)
    if state is not None and identity in state.account_aliases:
        alias = state.account_aliases[identity]
    else:
        alias = await session.get(AccountAlias, identity)
    if alias is not None:
        return alias.account_id
    if state is not None and identity in state.accounts:
        account = state.accounts[identity]
    else:
        account = await session.get(Account, identity)
    return account.account_id if account is not None else None


async def person_for(session: AsyncSession, identity: str, *, account_id: str | None) -> tuple[str, str] | None:
    """``(account_id, stakeholder_id)`` that an id, alias or email names; within ``account_id`` if given.

    An alias is unique; a bare stakeholder id may exist at several accounts, and is only taken
    without an account when exactly one account has it.
    """
    state = batch_of(session)
    if state is not None and identity in state.person_aliases:
        alias = state.person_aliases[identity]
    else:
        alias = await session.get(StakeholderAlias, identity)
    if alias is not None and account_id in (None, alias.account_id):
        return alias.account_id, alias.stakeholder_id
    if state is not None and account_id is not None and account_id in state.people:
        return (account_id, identity) if identity in state.people[account_id] else None
    query = select(Stakeholder.account_id).where(Stakeholder.stakeholder_id == identity)
    if account_id is not None:
        query = query.where(Stakeholder.account_id == account_id)
    accounts = list(await session.scalars(query.limit(2)))
    if len(accounts) == 1:
        return accounts[0], identity
    return None


async def keep_unattributed(
    session: AsyncSession,
    *,
    event_id: str,
    event: dict[str, Any],
    occurred_at: datetime,
    people: Iterable[str],
    accounts: Iterable[str],
) -> None:
    """Hold an answer until the directory names one of its identities."""
    session.add(
        UnattributedAnswer(event_id=event_id, event=event, occurred_at=occurred_at, received_at=datetime.now(UTC)),
    )
    seen: set[str] = set()
    for kind, identities in (("stakeholder", people), ("account", accounts)):
        for identity in identities:
            if identity not in seen:
                seen.add(identity)
                if (state := batch_of(session)) is not None:
                    state.waiting.add(identity)
                session.add(UnattributedIdentity(identity=identity, event_id=event_id, kind=kind))


async def waiting_for(session: AsyncSession, identities: Iterable[str]) -> list[UnattributedAnswer]:
    """Unattributed answers that named any of ``identities``, oldest first."""
    wanted = list(dict.fromkeys(identities))
    if not wanted:
        return []
    state = batch_of(session)
    if state is not None and state.waiting_domain.issuperset(wanted) and state.waiting.isdisjoint(wanted):
        return []  # the batch read these identities: no answer waits for any of them
    # A subquery rather than DISTINCT over the rows: PostgreSQL has no equality on json columns.
    naming = select(UnattributedIdentity.event_id).where(UnattributedIdentity.identity.in_(wanted))
    rows = await session.scalars(
        select(UnattributedAnswer)
        .where(UnattributedAnswer.event_id.in_(naming))
        .order_by(UnattributedAnswer.occurred_at, UnattributedAnswer.event_id),
    )
    return list(rows)


async def attributed(session: AsyncSession, event_id: str) -> None:
    """Forget an answer once it has been attributed."""
    await session.execute(delete(UnattributedIdentity).where(UnattributedIdentity.event_id == event_id))
    await session.execute(delete(UnattributedAnswer).where(UnattributedAnswer.event_id == event_id))
