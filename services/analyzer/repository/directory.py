"""Queries on the directory: accounts, stakeholders and their aliases."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import Account, AccountAlias, AccountModel, AlertRow, Stakeholder, StakeholderAlias
from services.analyzer.model.alerts import OPEN_STATUSES as OPEN_STATUSES  # re-exported for its readers here
from services.analyzer.repository.unit_of_work import batch_of

Version = tuple[str, str]  # (occurred_at ISO 8601 in UTC, event_id): later wins, event_id breaks ties


def version_of(occurred_at: datetime, event_id: str) -> Version:
    """The ordering key of a directory write."""
    return (occurred_at.isoformat(), event_id)


def apply_fields(row: Account | Stakeholder, fields: Mapping[str, Any], version: Version) -> list[str]:
    """Set each field whose stored version is older than ``version``; return the names changed.

    Directory events are upserts where a later ``occurred_at`` wins per field, whatever order the
    events arrive in; the event id decides between two writes of the same instant.
    """
    versions = dict(row.field_versions or {})
    changed = []
    for name, value in fields.items():
        if value is None:
            continue
        held = versions.get(name)
        if held is None or tuple(held) < version:
            setattr(row, name, value)
            versions[name] = list(version)
            changed.append(name)
    if changed:
        row.field_versions = versions  # reassign: JSON columns do not track in-place mutation
    return changed


async def get_account(session: AsyncSession, account_id: str) -> Account | None:
    """The account, or None."""
    state = batch_of(session)
    if state is not None and account_id in state.accounts:
        return state.accounts[account_id]
    return await session.get(Account, account_id)


async def ensure_account(session: AsyncSession, account_id: str, seen_at: datetime) -> Account:
    """The account, created on first mention; its first/last event times widened to ``seen_at``."""
    account = await get_account(session, account_id)
    if account is None:
        account = Account(account_id=account_id, field_versions={}, first_seen_at=seen_at, last_event_at=seen_at)
        session.add(account)
        state = batch_of(session)
        if state is None:
            await session.flush()
        else:
            # A new account has no people, model or alerts yet: the batch knows all of them.
            state.accounts[account_id] = account
            state.people[account_id] = {}
            state.models.setdefault(account_id, None)
            state.alerts[account_id] = []
    else:
        account.first_seen_at = min(account.first_seen_at, seen_at)
        account.last_event_at = max(account.last_event_at, seen_at)
    return account


async def get_stakeholder(session: AsyncSession, account_id: str, stakeholder_id: str) -> Stakeholder | None:
    """One person of an account, or None."""
    state = batch_of(session)
    if state is not None and account_id in state.people:
        return state.people[account_id].get(stakeholder_id)
    return await session.get(Stakeholder, (account_id, stakeholder_id))


async def ensure_stakeholder(
    session: AsyncSession, account_id: str, stakeholder_id: str, seen_at: datetime
) -> Stakeholder:
    """The stakeholder, created on first mention with role ``unassigned`` on the client side."""
    person = await get_stakeholder(session, account_id, stakeholder_id)
    if person is None:
        person = Stakeholder(
            account_id=account_id,
            stakeholder_id=stakeholder_id,
            role="unassigned",
            side="client",
            influence=1.0,
            field_versions={},
            first_seen_at=seen_at,
        )
        session.add(person)
        state = batch_of(session)
        if state is not None and account_id in state.people:
            state.people[account_id][stakeholder_id] = person
        else:
            await session.flush()
    else:
        person.first_seen_at = min(person.first_seen_at, seen_at)
    return person


async def list_stakeholders(session: AsyncSession, account_id: str) -> list[Stakeholder]:
    """Every stakeholder of an account, ordered by id."""
    state = batch_of(session)
    if state is not None and account_id in state.people:
        return [person for _, person in sorted(state.people[account_id].items())]
    rows = await session.scalars(
        select(Stakeholder).where(Stakeholder.account_id == account_id).order_by(Stakeholder.stakeholder_id),
    )
    return list(rows)


async def _account_alias(session: AsyncSession, alias: str) -> AccountAlias | None:
    state = batch_of(session)
    if state is not None and alias in state.account_aliases:
        return state.account_aliases[alias]
    return await session.get(AccountAlias, alias)


async def _person_alias(session: AsyncSession, alias: str) -> StakeholderAlias | None:
    state = batch_of(session)
    if state is not None and alias in state.person_aliases:
        return state.person_aliases[alias]
    return await session.get(StakeholderAlias, alias)


async def set_account_alias(session: AsyncSession, alias: str, account_id: str, version: Version) -> bool:
    """Point ``alias`` at an account unless a later write already moved it; True if changed."""
    row = await _account_alias(session, alias)
    set_at = datetime.fromisoformat(version[0])
    if row is None:
        row = AccountAlias(alias=alias, account_id=account_id, set_at=set_at, set_by=version[1])
        session.add(row)
        if (state := batch_of(session)) is not None:
            state.account_aliases[alias] = row
        return True
    if (row.set_at.isoformat(), row.set_by) < version and row.account_id != account_id:
        row.account_id, row.set_at, row.set_by = account_id, set_at, version[1]
        return True
    return False


async def set_stakeholder_alias(
    session: AsyncSession,
    alias: str,
    account_id: str,
    stakeholder_id: str,
    version: Version,
) -> bool:
    """Point ``alias`` at a person unless a later write already moved it; True if changed."""
    row = await _person_alias(session, alias)
    set_at = datetime.fromisoformat(version[0])
    if row is None:
        row = StakeholderAlias(
            alias=alias,
            account_id=account_id,
            stakeholder_id=stakeholder_id,
            set_at=set_at,
            set_by=version[1],
        )
        session.add(row)
        if (state := batch_of(session)) is not None:
            state.person_aliases[alias] = row
        return True
    if (row.set_at.isoformat(), row.set_by) < version and (row.account_id, row.stakeholder_id) != (
        account_id,
        stakeholder_id,
    ):
        row.account_id, row.stakeholder_id = account_id, stakeholder_id
        row.set_at, row.set_by = set_at, version[1]
        return True
    return False


async def list_accounts(
    session: AsyncSession,
    *,
    segment: str | None,
    order: str,
    limit: int,
    offset: int,
) -> list[tuple[Account, AccountModel | None, int]]:
    """Accounts with their model figures and open-alert count, ordered by a model figure (largest
    first, accounts without one last) or by id.

    ``order`` is ``account_id``, a figure column of ``AccountModel`` (``divergence``, ``account_mean``,
    ``nps``, ``risk``) or ``value_at_risk``: risk x annual value, null unless both are known.
    """
    open_alerts = (
        select(AlertRow.account_id, func.count().label("n"))
        .where(AlertRow.status.in_(OPEN_STATUSES))
        .group_by(AlertRow.account_id)
        .subquery()
    )
    query = (
        select(Account, AccountModel, open_alerts.c.n)
        .outerjoin(AccountModel, AccountModel.account_id == Account.account_id)
        .outerjoin(open_alerts, open_alerts.c.account_id == Account.account_id)
    )
    if segment is not None:
        query = query.where(Account.segment == segment)
    if order == "account_id":
        query = query.order_by(Account.account_id)
    else:
        # NULL * x is NULL on both back ends, so an account without either factor sorts last.
        column = AccountModel.risk * Account.annual_value if order == "value_at_risk" else getattr(AccountModel, order)
        query = query.order_by(column.is_(None), column.desc(), Account.account_id)
    rows = await session.execute(query.limit(limit).offset(offset))
    return [(account, model, int(n or 0)) for account, model, n in rows]


async def account_aliases(session: AsyncSession, account_id: str) -> list[str]:
    """Every alias of an account, sorted."""
    query = select(AccountAlias.alias).where(AccountAlias.account_id == account_id).order_by(AccountAlias.alias)
    return list(await session.scalars(query))


async def person_aliases(session: AsyncSession, account_id: str) -> dict[str, list[str]]:
    """Every alias of each person of an account, sorted."""
    found: dict[str, list[str]] = {}
    query = (
        select(StakeholderAlias.alias, StakeholderAlias.stakeholder_id)
        .where(StakeholderAlias.account_id == account_id)
        .order_by(StakeholderAlias.alias)
    )
    for alias, stakeholder_id in await session.execute(query):
        found.setdefault(stakeholder_id, []).append(alias)
    return found


async def modelled_account_ids(session: AsyncSession) -> list[str]:
    """Every account the model holds a state for, by id."""
    return list(await session.scalars(select(AccountModel.account_id).order_by(AccountModel.account_id)))
