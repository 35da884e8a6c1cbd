"""Queries the backtest reads: renewal outcomes, alert spans, client NPS answers and plans done."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from services.analyzer.db.models import AccountModel, AlertRow, JourneyMomentRow, Response, Stakeholder
from services.analyzer.db.plan_models import ActionPlan

RENEWAL_OUTCOME = "renewal_outcome"


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """A stored ``renewal_outcome`` moment: its account, time and ``attributes.outcome`` (any value)."""

    account_id: str
    at: datetime
    outcome: object


@dataclass(frozen=True, slots=True)
class AlertSpanRow:
    """When an alert of a type opened and when its condition cleared (None: it still holds)."""

    account_id: str
    type: str
    opened_as_of: datetime
    closed_as_of: datetime | None


@dataclass(frozen=True, slots=True)
class PredictionRow:
    """The renewal risk an account had a horizon before one of its renewals (its model's record)."""

    account_id: str
    renewal_at: datetime
    probability: float


@dataclass(frozen=True, slots=True)
class NpsRow:
    """One current NPS answer of a client person."""

    account_id: str
    stakeholder_id: str
    at: datetime
    event_id: str
    score: float


def _prefixed(column: Mapped[str], prefix: str | None) -> ColumnElement[bool]:
    """Rows whose ``column`` starts with ``prefix`` (every row without one)."""
    # autoescape: a prefix holding "%" or "_" matches them literally, not as LIKE wildcards.
    return column.startswith(prefix, autoescape=True) if prefix else true()


def _renewing(column: Mapped[str]) -> ColumnElement[bool]:
    """Rows of accounts with at least one ``renewal_outcome``: the only accounts the backtest scores."""
    return column.in_(select(JourneyMomentRow.account_id).where(JourneyMomentRow.moment == RENEWAL_OUTCOME))


def _outcomes_query(account_prefix: str | None) -> Select[str, datetime, object]:
    return select(JourneyMomentRow.account_id, JourneyMomentRow.occurred_at, JourneyMomentRow.attributes).where(
        JourneyMomentRow.moment == RENEWAL_OUTCOME, _prefixed(JourneyMomentRow.account_id, account_prefix)
    )


def _alerts_query(types: Collection[str], account_prefix: str | None) -> Select[str, str, datetime, datetime | None]:
    return select(AlertRow.account_id, AlertRow.type, AlertRow.opened_as_of, AlertRow.closed_as_of).where(
        AlertRow.type.in_(list(types)), _prefixed(AlertRow.account_id, account_prefix), _renewing(AlertRow.account_id)
    )


def _answers_query(account_prefix: str | None) -> Select[str, str, datetime, str, float]:
    person = and_(Stakeholder.account_id == Response.account_id, Stakeholder.stakeholder_id == Response.stakeholder_id)
    return (
        select(Response.account_id, Response.stakeholder_id, Response.occurred_at, Response.event_id, Response.score)
        .outerjoin(Stakeholder, person)
        .where(
            Response.metric == "nps",
            Response.is_current.is_(True),
            (Stakeholder.side.is_(None)) | (Stakeholder.side == "client"),
            _prefixed(Response.account_id, account_prefix),
            _renewing(Response.account_id),
        )
    )


def _plans_query(account_prefix: str | None) -> Select[str, datetime | None]:
    return select(ActionPlan.account_id, ActionPlan.completed_as_of).where(
        ActionPlan.status == "done",
        ActionPlan.completed_as_of.is_not(None),
        _prefixed(ActionPlan.account_id, account_prefix),
        _renewing(ActionPlan.account_id),
    )


def _models_query(account_prefix: str | None) -> Select[str, Any]:
    return select(AccountModel.account_id, AccountModel.document).where(
        _prefixed(AccountModel.account_id, account_prefix), _renewing(AccountModel.account_id)
    )


async def rows_to_read(session: AsyncSession, types: Collection[str], *, account_prefix: str | None = None) -> int:
    """How many rows the backtest would load (outcomes, alerts, answers, model documents, plans), counted in SQL."""
    total = 0
    for query in (
        _outcomes_query(account_prefix),
        _alerts_query(types, account_prefix),
        _answers_query(account_prefix),
        _models_query(account_prefix),
        _plans_query(account_prefix),
    ):
        total += int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    return total


async def renewal_outcomes(session: AsyncSession, *, account_prefix: str | None = None) -> list[OutcomeRow]:
    """Every ``renewal_outcome`` moment, oldest first."""
    query = _outcomes_query(account_prefix)
    rows = await session.execute(query.order_by(JourneyMomentRow.occurred_at, JourneyMomentRow.event_id))
    return [
        OutcomeRow(
            row.account_id, row.occurred_at, row.attributes.get("outcome") if isinstance(row.attributes, dict) else None
        )
        for row in rows
    ]


async def alert_spans(
    session: AsyncSession, types: Collection[str], *, account_prefix: str | None = None
) -> list[AlertSpanRow]:
    """The event-time span of every alert of ``types``, on accounts with a renewal outcome."""
    rows = await session.execute(_alerts_query(types, account_prefix))
    return [AlertSpanRow(*row) for row in rows]


async def client_nps_answers(session: AsyncSession, *, account_prefix: str | None = None) -> Sequence[NpsRow]:
    """The current NPS answers of client-side people (a person the directory does not know counts as client).

    The same people the account NPS counts (docs/model.md, "Classic scores"): supplier answers never.
    Only accounts with a renewal outcome: no other account is scored.
    """
    rows = await session.execute(_answers_query(account_prefix))
    return [NpsRow(*row) for row in rows]


async def risk_predictions(session: AsyncSession, *, account_prefix: str | None = None) -> list[PredictionRow]:
    """What each account's risk said a horizon before each of its renewals (``AccountState.predictions``).

    Read from the model's documents, key ``predictions`` only; an account without one has none.
    """
    found = []
    for account_id, document in await session.execute(_models_query(account_prefix)):
        for at, probability in (document or {}).get("predictions", []):
            found.append(PredictionRow(account_id, datetime.fromisoformat(at), float(probability)))
    return found


async def plans_done(session: AsyncSession, *, account_prefix: str | None = None) -> dict[str, list[datetime]]:
    """Per account with a renewal outcome, when each of its action plans was done (event time), oldest first."""
    found: dict[str, list[datetime]] = {}
    for account_id, at in await session.execute(_plans_query(account_prefix)):
        if at is not None:
            found.setdefault(account_id, []).append(at)
    return {account_id: sorted(times) for account_id, times in found.items()}
