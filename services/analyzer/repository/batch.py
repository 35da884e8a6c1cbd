"""The state one consumer batch touches, read in a handful of queries before its events are applied.

A batch names its accounts, identities and answers up front (the events are decoded first). This
module reads every row those can reach in one query per table (accounts, their people, aliases,
models, the alerts that can still change, current answer versions) into the batch's unit of work
(``repository/unit_of_work.py``). The repositories answer from it, including "there is no such
row", so applying an event issues no query for what the batch already read, and what an event adds
is registered here for the events after it.

Outside a consumer batch (the API, the sweep) there is no ``BatchState`` and the repositories query
as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import (
    Account,
    AccountAlias,
    AccountModel,
    AlertRow,
    Response,
    Stakeholder,
    StakeholderAlias,
    UnattributedIdentity,
)
from services.analyzer.model.account_state import AccountState
from shared.events import AccountEvent, Event, JourneyMoment, StakeholderEvent, SurveyResponse

CHUNK = 500
# How far before an account's last evaluated day a closed alert is still read with the batch: its
# timeline keeps the episodes closed since the start of that day (``AlertTimeline.prune``); a day
# of margin keeps the read a superset whatever the clock's zone.
RECENT_MARGIN: Final = timedelta(days=1)

T = TypeVar("T")


@dataclass
class BatchState:
    """Rows of the accounts and identities a batch names; a key present with None means "no row"."""

    accounts: dict[str, Account | None] = field(default_factory=dict)
    people: dict[str, dict[str, Stakeholder]] = field(default_factory=dict)  # complete per account read
    account_aliases: dict[str, AccountAlias | None] = field(default_factory=dict)
    person_aliases: dict[str, StakeholderAlias | None] = field(default_factory=dict)
    models: dict[str, AccountModel | None] = field(default_factory=dict)
    # Per account read: its open alerts and those closed since its last evaluated day, the only ones
    # an evaluation or the alert sync can change; an account's list holds every alert once it is
    # in ``alerts_complete`` (``alerts/repository.py account_alerts``). Resolved alerts accumulate
    # over an account's life, so reading only these keeps a batch's cost flat in its history.
    alerts: dict[str, list[AlertRow]] = field(default_factory=dict)
    alerts_complete: set[str] = field(default_factory=set)
    response_keys: set[str] = field(default_factory=set)
    responses: dict[tuple[str, str], Response] = field(default_factory=dict)  # (key, account) -> current
    new_responses: list[Response] = field(default_factory=list)  # written in one insert at the end
    # The model's typed state per account, decoded once per batch, and which of them changed.
    account_states: dict[str, tuple[AccountModel, AccountState]] = field(default_factory=dict)
    changed_states: set[str] = field(default_factory=set)
    # Identities read for waiting (unattributed) answers, and those of them some answer waits for.
    waiting_domain: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)


def _recent_since(model: AccountModel) -> datetime:
    """The oldest closing time of an alert the account's timeline may still hold."""
    floor = datetime.min.replace(tzinfo=UTC) + RECENT_MARGIN  # a model never evaluated starts at the minimum
    return max(model.as_of, floor) - RECENT_MARGIN


def _chunks(values: Iterable[T]) -> list[list[T]]:
    unique = list(dict.fromkeys(values))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


def _names(events: Sequence[Event]) -> tuple[set[str], set[str], set[str]]:
    """Account ids, identities (ids, aliases, emails) and answer keys that the events name."""
    accounts: set[str] = set()
    identities: set[str] = set()
    keys: set[str] = set()
    for event in events:
        if event.account_id is not None:
            accounts.add(event.account_id)
        match event:
            case SurveyResponse():
                if event.stakeholder_id is not None:
                    identities.add(event.stakeholder_id)
                if event.identities is not None:
                    identities.update(event.identities.stakeholder)
                    identities.update(event.identities.account)
                keys.add(event.response_id or event.event_id or "")
            case AccountEvent():
                identities.update(event.aliases)
            case StakeholderEvent():
                identities.add(event.stakeholder_id)
                identities.update(event.aliases)
            case JourneyMoment():
                pass
    return accounts, identities, keys


async def read_batch(session: AsyncSession, events: Sequence[Event], state: BatchState) -> None:
    """Read what ``events`` can reach into ``state`` (the batch's unit of work holds it)."""
    accounts, identities, keys = _names(events)
    for chunk in _chunks(identities | accounts):
        found = {a.alias: a for a in await session.scalars(select(AccountAlias).where(AccountAlias.alias.in_(chunk)))}
        state.account_aliases.update({alias: found.get(alias) for alias in chunk})
    for chunk in _chunks(identities):
        found_people = {
            a.alias: a for a in await session.scalars(select(StakeholderAlias).where(StakeholderAlias.alias.in_(chunk)))
        }
        state.person_aliases.update({alias: found_people.get(alias) for alias in chunk})
    # Accounts named through an alias are read too, so their people and models are in memory.
    accounts |= {a.account_id for a in state.account_aliases.values() if a is not None}
    accounts |= {a.account_id for a in state.person_aliases.values() if a is not None}
    for chunk in _chunks(accounts):
        rows = {a.account_id: a for a in await session.scalars(select(Account).where(Account.account_id.in_(chunk)))}
        state.accounts.update({account_id: rows.get(account_id) for account_id in chunk})
        state.people.update({account_id: {} for account_id in chunk})
        for person in await session.scalars(select(Stakeholder).where(Stakeholder.account_id.in_(chunk))):
            state.people[person.account_id][person.stakeholder_id] = person
        model_query = select(AccountModel).where(AccountModel.account_id.in_(chunk))
        models = {m.account_id: m for m in await session.scalars(model_query)}
        state.models.update({account_id: models.get(account_id) for account_id in chunk})
        state.alerts.update({account_id: [] for account_id in chunk})
        since = {m.account_id: _recent_since(m) for m in models.values()}
        if since:
            # An account without a model has never been evaluated, so it has no alert.
            alert_query = select(AlertRow).where(
                AlertRow.account_id.in_(list(since)),
                or_(AlertRow.active.is_(True), AlertRow.closed_as_of >= min(since.values())),
            )
            for alert in await session.scalars(alert_query):
                if alert.active or (alert.closed_as_of is not None and alert.closed_as_of >= since[alert.account_id]):
                    state.alerts[alert.account_id].append(alert)
    state.waiting_domain = identities | accounts
    for chunk in _chunks(state.waiting_domain):
        query = select(UnattributedIdentity.identity).where(UnattributedIdentity.identity.in_(chunk))
        state.waiting.update(await session.scalars(query))
    state.response_keys = keys
    for chunk in _chunks(keys):
        answer_query = select(Response).where(Response.response_key.in_(chunk), Response.is_current.is_(True))
        for response in await session.scalars(answer_query):
            state.responses[(response.response_key, response.account_id)] = response
