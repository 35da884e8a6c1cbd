"""Connects the pure model to the state: fold answers in, evaluate the rules, record alerts.

Runs inside the consumer's transaction (the per-event recipe of docs/model.md). Everything it
publishes (position changes, alert changes) is written to the outbox in that same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from services.analyzer.alerts import repository as alert_repository
from services.analyzer.alerts import service as alert_service
from services.analyzer.db.account_state import decode, encode
from services.analyzer.db.models import Account, AccountModel, Response
from services.analyzer.model import (
    AccountSnapshot,
    ActiveAlert,
    Answer,
    HeldAnswer,
    Thresholds,
    Transition,
    evaluate,
    normalise_answer,
    transitions,
)
from services.analyzer.model.account_state import RENEWAL_MOMENTS, AccountState, PersonFacts
from services.analyzer.repository import directory, ledger
from services.analyzer.repository.batch import batch_of
from shared.events import Scale
from shared.settings import Topics


@dataclass(frozen=True)
class ModelConfig:
    """The model's settings: half-life and every rule threshold."""

    half_life: timedelta
    thresholds: Thresholds


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def held_answer(row: Response) -> HeldAnswer:
    """The model's view of a stored answer version."""
    scale = Scale(min=row.scale_min, max=row.scale_max, higher_is_better=row.higher_is_better)
    value = normalise_answer(row.metric, row.score, scale)  # type: ignore[arg-type]
    answer = Answer(value, row.occurred_at, row.event_id)
    return HeldAnswer.of(answer, stakeholder_id=row.stakeholder_id, dimension=row.dimension)


class Assessor:
    """Applies the model to one account at a time inside the caller's transaction."""

    def __init__(self, config: ModelConfig, topics: Topics) -> None:
        self.config = config
        self.topics = topics

    async def load(self, session: AsyncSession, account_id: str) -> AccountModel:
        """The account's model row, created empty on first use."""
        batch = batch_of(session)
        if batch is not None and account_id in batch.models:
            row = batch.models[account_id]
        else:
            row = await session.get(AccountModel, account_id)
        if row is None:
            row = AccountModel(
                account_id=account_id, document=encode(AccountState()), as_of=datetime.min.replace(tzinfo=UTC)
            )
            session.add(row)
            if batch is not None:
                batch.models[account_id] = row
        return row

    async def state(self, session: AsyncSession, account_id: str) -> tuple[AccountModel, AccountState]:
        """The account's model row and its typed state (decoded once per consumer batch)."""
        batch = batch_of(session)
        if batch is not None and account_id in batch.account_states:
            return batch.account_states[account_id]
        row = await self.load(session, account_id)
        loaded = (row, decode(row.document))
        if batch is not None:
            batch.account_states[account_id] = loaded
        return loaded

    @staticmethod
    def _changed(session: AsyncSession, row: AccountModel, state: AccountState) -> None:
        batch = batch_of(session)
        if batch is not None:
            batch.changed_states.add(row.account_id)  # encoded once, at the end of the batch
        else:
            _store(row, encode(state))

    @staticmethod
    def write_back(session: AsyncSession) -> None:
        """Encode the states a consumer batch changed into their rows (before its flush)."""
        batch = batch_of(session)
        if batch is None:
            return
        for account_id in sorted(batch.changed_states):
            row, state = batch.account_states[account_id]
            _store(row, encode(state))
        batch.changed_states.clear()

    async def fold(
        self,
        session: AsyncSession,
        *,
        row: Response,
        held: Response | None,
        event_id: str,
    ) -> bool:
        """Fold a new answer version into the states; False when it does not count."""
        model, state = await self.state(session, row.account_id)
        moved = state.fold(
            held_answer(row),
            held=held_answer(held) if held is not None else None,
            metric=row.metric,  # type: ignore[arg-type]
            score=row.score,
            half_life=self.config.half_life,
            drop_window=self.config.thresholds.drop_window,
        )
        if moved is None:
            return False
        for change in moved:
            ledger.enqueue(
                session,
                message_id=f"position:{event_id}:{change.stakeholder_id}",
                topic=self.topics.positions,
                key=row.account_id,
                value={
                    "account_id": row.account_id,
                    "stakeholder_id": change.stakeholder_id,
                    "position": change.position,
                    "answers": change.answers,
                    "as_of": row.occurred_at.isoformat(),
                    "event_id": event_id,
                },
            )
        self._changed(session, model, state)
        return True

    async def snapshot(
        self, session: AsyncSession, account: Account, *, as_of: datetime | None = None
    ) -> AccountSnapshot:
        """The account's figures as of its own latest event time (or ``as_of``)."""
        model, state = await self.state(session, account.account_id)
        people = {
            p.stakeholder_id: PersonFacts(
                role=p.role,
                side=p.side,  # type: ignore[arg-type]
                influence=p.influence,
                known_since=p.first_seen_at,
            )
            for p in await directory.list_stakeholders(session, account.account_id)
        }
        return state.snapshot(
            account.account_id,
            as_of or max(account.last_event_at, model.as_of),
            people,
            thresholds=self.config.thresholds,
            half_life=self.config.half_life,
            renewal_date=account.renewal_date,
        )

    async def note_moment(self, session: AsyncSession, account_id: str, moment: str, at: datetime) -> None:
        """Remember the latest renewal moments, which open and close the renewal window."""
        if moment not in RENEWAL_MOMENTS:
            return
        model, state = await self.state(session, account_id)
        if state.note_moment(moment, at):
            self._changed(session, model, state)

    async def assess(
        self,
        session: AsyncSession,
        account_id: str,
        *,
        trigger: str,
        as_of: datetime | None = None,
    ) -> list[Transition]:
        """Evaluate every rule for the account and record the alert changes (with their outbox rows)."""
        account = await directory.get_account(session, account_id)
        if account is None:
            return []
        model, state = await self.state(session, account_id)
        snap = await self.snapshot(session, account, as_of=as_of)
        rows = await alert_repository.active_alerts(session, account_id)
        active = [
            ActiveAlert(
                alert_id=r.alert_id,
                type=r.type,  # type: ignore[arg-type]
                key=r.key,
                severity=r.severity,  # type: ignore[arg-type]
                status=r.status,  # type: ignore[arg-type]
                opened_as_of=r.opened_as_of,
            )
            for r in rows
        ]
        conditions = evaluate(snap, self.config.thresholds, active)
        changes = transitions(account_id=account_id, active=active, conditions=conditions, trigger=trigger)
        by_id = {r.alert_id: r for r in rows}
        for change in changes:
            await alert_service.record_change(
                session, change, by_id.get(change.alert_id), snap, segment=account.segment, topics=self.topics
            )
        state.record_series(snap, self.config.thresholds.trend_window)
        self._changed(session, model, state)
        model.as_of = max(model.as_of, snap.as_of)
        model.account_mean = snap.account_mean
        model.divergence = snap.divergence.gap if snap.divergence else None
        model.nps = snap.nps
        return changes


def _store(model: AccountModel, document: dict[str, Any]) -> None:
    # Always a fresh document, and flagged, so that the JSON column writes it.
    model.document = document
    flag_modified(model, "document")
