"""Connects the pure model to the state: fold events in, evaluate the rules per day, record alerts.

Runs inside the consumer's transaction. Alerts are a function of the events, not of the order they
arrived in (docs/model.md, "Event time"): the rules are evaluated once per day that has events, as
of that day's latest event. An event on the newest day re-evaluates that day; an event on a later
day first completes the newest one; an event on an earlier day (a late arrival, a backfill out of
order, a directory change that alters who people are) replays the account's whole timeline from its
stored events at the end of the batch. Everything published (position changes, alert changes) is
written to the outbox in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from services.analyzer.alerts import repository as alert_repository
from services.analyzer.alerts import service as alert_service
from services.analyzer.db.account_state_codec import decode, encode
from services.analyzer.db.models import Account, AccountModel, Response
from services.analyzer.model import (
    AccountSnapshot,
    Answer,
    HeldAnswer,
    Thresholds,
    Transition,
    normalise_answer,
)
from services.analyzer.model.account_state import (
    RENEWAL_MOMENTS,
    RESOLUTION,
    AccountState,
    PersonFacts,
    day_start,
)
from services.analyzer.model.replay import AnswerVersion, Fact, Moment, replay
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, RiskModel
from services.analyzer.outbox import repository as outbox
from services.analyzer.repository import directory, responses
from services.analyzer.repository.unit_of_work import batch_of
from shared.events import Scale
from shared.settings import Topics

# An alert change older than this (in event time) when it is processed is history, not news.
DEFAULT_NEWS_HORIZON: Final = timedelta(days=3)
PLAN_KEY: Final = "assessment_plan"


@dataclass(frozen=True)
class ModelConfig:
    """The model's settings: half-life, every rule threshold, and how old an alert change may be
    and still be news for webhook subscribers."""

    half_life: timedelta
    thresholds: Thresholds
    news_horizon: timedelta = DEFAULT_NEWS_HORIZON
    risk: RiskModel = DEFAULT_RISK_MODEL


@dataclass
class Plan:
    """What a transaction still owes each account it touched: an evaluation of the newest day, a
    replay of the whole timeline, and syncing the alert rows with the timeline."""

    dirty: set[str] = field(default_factory=set)
    replay: set[str] = field(default_factory=set)
    touched: set[str] = field(default_factory=set)
    # The episodes each account's timeline held when the transaction first read it.
    initial: dict[str, set[str]] = field(default_factory=dict)
    # Each account's timeline as first read (``AlertTimeline.signature``), absent once it was replayed:
    # an account whose timeline ends the transaction as it began needs no alert-row sync.
    read_as: dict[str, object] = field(default_factory=dict)
    # Accounts whose timeline was recomputed from their events: their sync reads every alert row.
    replayed: set[str] = field(default_factory=set)


def plan_of(session: AsyncSession) -> Plan:
    """The session's plan (one per transaction; created on first use)."""
    plan: Plan | None = session.info.get(PLAN_KEY)
    if plan is None:
        plan = session.info[PLAN_KEY] = Plan()
    return plan


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

    async def _open(self, session: AsyncSession, account_id: str) -> tuple[AccountModel, AccountState]:
        """The account's state, remembering which episodes its timeline held when first read."""
        model, state = await self.state(session, account_id)
        plan = plan_of(session)
        if account_id not in plan.initial:
            plan.initial[account_id] = {e.alert_id for e in state.timeline.episodes}
            plan.read_as[account_id] = state.timeline.signature()
        return model, state

    async def before_event(self, session: AsyncSession, account_id: str, at: datetime) -> None:
        """Prepare the account for an event at ``at``: settle its newest day, or plan a replay."""
        plan = plan_of(session)
        if account_id in plan.replay:
            return
        _, state = await self._open(session, account_id)
        if state.outdated:
            plan.replay.add(account_id)  # written by an earlier model: recompute it from its events
            return
        if state.clock is None:
            if state.states or state.timeline.episodes:
                plan.replay.add(account_id)  # a state written before evaluation points existed
            return
        if at < day_start(state.clock):
            plan.replay.add(account_id)  # a day already evaluated changes, and every day after it
        elif day_start(at) > day_start(state.clock):
            if account_id in plan.dirty:
                await self.evaluate(session, account_id)  # the newest day is complete
                plan.dirty.discard(account_id)
            else:
                state.timeline.rewind(state.clock + RESOLUTION)  # take back a wall-clock evaluation

    async def after_event(self, session: AsyncSession, account_id: str, at: datetime, event_id: str) -> None:
        """The event is folded in: move the clock and owe the account an evaluation."""
        model, state = await self._open(session, account_id)
        state.tick(at, event_id)
        plan_of(session).dirty.add(account_id)
        self._changed(session, model, state)

    async def directory_changed(self, session: AsyncSession, account_id: str) -> None:
        """Who people are (role, side, influence, decision maker) or the renewal date changed: replay the timeline."""
        _, state = await self._open(session, account_id)
        if state.clock is not None or state.states:
            plan_of(session).replay.add(account_id)

    async def fold(
        self,
        session: AsyncSession,
        *,
        row: Response,
        held: Response | None,
        event_id: str,
    ) -> bool:
        """Fold a new answer version into the states; False when it does not count."""
        await self.before_event(session, row.account_id, row.occurred_at)
        _, state = await self.state(session, row.account_id)
        moved = state.fold(
            held_answer(row),
            held=held_answer(held) if held is not None else None,
            metric=row.metric,  # type: ignore[arg-type]
            score=row.score,
            half_life=self.config.half_life,
        )
        await self.after_event(session, row.account_id, row.occurred_at, event_id)
        if moved is None:
            return False
        for change in moved:
            outbox.enqueue(
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
        return True

    async def note_moment(
        self, session: AsyncSession, account_id: str, moment: str, at: datetime, event_id: str
    ) -> None:
        """A journey moment is an evaluation point; renewal moments open and close the renewal window."""
        await self.before_event(session, account_id, at)
        _, state = await self.state(session, account_id)
        if moment in RENEWAL_MOMENTS:
            state.note_moment(moment, at)
        await self.after_event(session, account_id, at, event_id)

    async def people(self, session: AsyncSession, account_id: str) -> dict[str, PersonFacts]:
        """Who the directory says the account's people are, as the model reads them."""
        return {
            p.stakeholder_id: PersonFacts(
                role=p.role,
                side=p.side,
                influence=p.influence,
                known_since=p.first_seen_at,
                decision_maker=p.decision_maker,
            )
            for p in await directory.list_stakeholders(session, account_id)
        }

    async def snapshot(
        self, session: AsyncSession, account: Account, *, as_of: datetime | None = None
    ) -> AccountSnapshot:
        """The account's figures as of its own latest event time (or ``as_of``)."""
        model, state = await self.state(session, account.account_id)
        return state.snapshot(
            account.account_id,
            as_of or state.clock or max(account.last_event_at, model.as_of),
            await self.people(session, account.account_id),
            thresholds=self.config.thresholds,
            half_life=self.config.half_life,
            renewal_date=account.renewal_date,
            risk_model=self.config.risk,
        )

    async def evaluate(
        self, session: AsyncSession, account_id: str, *, now: datetime | None = None
    ) -> list[Transition]:
        """Evaluate the rules at the account's newest point (or, with ``now``, at the wall clock)."""
        account = await directory.get_account(session, account_id)
        if account is None:
            return []
        model, state = await self._open(session, account_id)
        if state.clock is None:
            return []
        rows = await alert_repository.changeable_alerts(session, account_id)
        snap, changes = state.evaluate_point(
            account_id,
            await self.people(session, account_id),
            alert_service.human_statuses(rows),
            thresholds=self.config.thresholds,
            half_life=self.config.half_life,
            renewal_date=account.renewal_date,
            now=now,
            risk_model=self.config.risk,
        )
        if now is None:
            model.as_of = state.clock
            model.account_mean = snap.account_mean
            model.divergence = snap.divergence.gap if snap.divergence else None
            model.nps = snap.nps
            model.risk = snap.risk.probability if snap.risk is not None else None
        plan_of(session).touched.add(account_id)
        self._changed(session, model, state)
        return changes

    @staticmethod
    async def facts(session: AsyncSession, account_id: str) -> list[Fact]:
        """Every stored version of every answer and every journey moment of the account (one query each)."""
        facts: list[Fact] = [
            AnswerVersion(r.response_key, held_answer(r), r.metric, r.score)  # type: ignore[arg-type]
            for r in await responses.every_version(session, account_id)
        ]
        facts += [Moment(m.occurred_at, m.event_id, m.moment) for m in await responses.moments(session, account_id)]
        return facts

    async def replay_account(self, session: AsyncSession, account_id: str) -> None:
        """Recompute the account's states and whole alert timeline from its stored events, in event time.

        Every version of every answer and every journey moment is read (in one query each) and
        folded in ``(occurred_at, event_id)`` order, evaluating at the end of each day: exactly what
        in-order arrival would have done.
        """
        account = await directory.get_account(session, account_id)
        if account is None:
            return
        model, _ = await self._open(session, account_id)
        fresh, snap = replay(
            account_id,
            await self.facts(session, account_id),
            await self.people(session, account_id),
            thresholds=self.config.thresholds,
            half_life=self.config.half_life,
            renewal_date=account.renewal_date,
            human=alert_service.human_statuses(await alert_repository.account_alerts(session, account_id)),
            risk=self.config.risk,
        )
        batch = batch_of(session)
        if batch is not None:
            batch.account_states[account_id] = (model, fresh)
        if snap is not None and fresh.clock is not None:
            model.as_of = fresh.clock
            model.account_mean = snap.account_mean
            model.divergence = snap.divergence.gap if snap.divergence else None
            model.nps = snap.nps
            model.risk = snap.risk.probability if snap.risk is not None else None
        plan = plan_of(session)
        plan.touched.add(account_id)
        plan.initial[account_id] = {r.alert_id for r in await alert_repository.account_alerts(session, account_id)}
        plan.read_as.pop(account_id, None)  # its rows may disagree with the fresh timeline: always sync
        plan.replayed.add(account_id)
        self._changed(session, model, fresh)

    async def finish(self, session: AsyncSession, *, now: datetime | None = None) -> None:
        """Do what the transaction owes: replays, newest-day evaluations, then the alert rows.

        Call it after the batch's answers are written (a replay reads them back).
        """
        plan = plan_of(session)
        for account_id in sorted(plan.replay):
            await self.replay_account(session, account_id)
        for account_id in sorted(plan.dirty - plan.replay):
            await self.evaluate(session, account_id)
        for account_id in sorted(plan.touched):
            await self.sync(session, account_id, now=now or datetime.now(UTC))
        plan.dirty.clear()
        plan.replay.clear()
        plan.touched.clear()
        plan.initial.clear()
        plan.read_as.clear()
        plan.replayed.clear()

    async def sync(self, session: AsyncSession, account_id: str, *, now: datetime) -> None:
        """Bring the account's alert rows in line with its timeline, and announce what changed.

        An account whose timeline is what the transaction first read (re-evaluated to the same
        alerts, the common case) is skipped: its rows were brought in line when that timeline was
        written, and people's actions on them (acknowledge, resolve) publish themselves.
        """
        model, state = await self.state(session, account_id)
        read_as = plan_of(session).read_as.get(account_id)
        if read_as is not None and read_as == state.timeline.signature():
            if state.clock is not None:
                state.timeline.prune(day_start(state.clock))
                self._changed(session, model, state)
            return
        account = await directory.get_account(session, account_id)
        await alert_service.sync_timeline(
            session,
            account_id,
            state.timeline,
            every_row=account_id in plan_of(session).replayed,
            initial=plan_of(session).initial.get(account_id, set()),
            segment=account.segment if account is not None else None,
            topics=self.topics,
            now=now,
            news_horizon=self.config.news_horizon,
        )
        if state.clock is not None:
            state.timeline.prune(day_start(state.clock))
        self._changed(session, model, state)

    async def sweep(self, session: AsyncSession, account_id: str, *, now: datetime) -> list[Transition]:
        """The wall-clock evaluation of one account (when ``now`` is past its newest event)."""
        _, state = await self._open(session, account_id)
        if state.outdated:
            # Written by an earlier model: recompute it from its events before judging it by the clock.
            await self.replay_account(session, account_id)
            _, state = await self.state(session, account_id)
        if state.clock is None or now <= state.clock:
            return []
        changes = await self.evaluate(session, account_id, now=now)
        await self.sync(session, account_id, now=now)
        return changes


def _store(model: AccountModel, document: dict[str, Any]) -> None:
    # Always a fresh document, and flagged, so that the JSON column writes it.
    model.document = document
    flag_modified(model, "document")
