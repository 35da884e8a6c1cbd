"""An account's whole history folded in event-time order into a fresh state (pure).

This is what in-order arrival does, evaluated once per day that has events, as of that day's latest
event (docs/model.md, "Event time"). The analyzer's rebuild feeds it the stored versions and moments;
the offline backtest (``bench/backtest``) feeds it a simulated portfolio's events. Both therefore run
the same code as the live consumer's per-batch evaluations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.analyzer.model.account_state import RENEWAL_MOMENTS, AccountState, PersonFacts, day_start
from services.analyzer.model.alerts import AlertStatus
from services.analyzer.model.answers import HeldAnswer
from services.analyzer.model.normalise import Metric
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, RiskModel
from services.analyzer.model.snapshot import AccountSnapshot
from services.analyzer.model.thresholds import Thresholds


@dataclass(frozen=True, slots=True)
class AnswerVersion:
    """One stored version of an answer: the versions sharing ``response_key`` are one answer."""

    response_key: str
    held: HeldAnswer
    metric: Metric
    score: float

    @property
    def at(self) -> datetime:
        """Its event time."""
        return self.held.answer.at

    @property
    def event_id(self) -> str:
        """The event that carried it."""
        return self.held.answer.event_id


@dataclass(frozen=True, slots=True)
class Moment:
    """A journey moment: an evaluation point, and for renewal moments the renewal window's edges."""

    at: datetime
    event_id: str
    moment: str


Fact = AnswerVersion | Moment


def replay(
    account_id: str,
    facts: Sequence[Fact],
    people: Mapping[str, PersonFacts],
    *,
    thresholds: Thresholds,
    half_life: timedelta,
    renewal_date: date | None,
    human: Mapping[str, AlertStatus] | None = None,
    risk: RiskModel | None = None,
) -> tuple[AccountState, AccountSnapshot | None]:
    """The account's state and alert timeline after every fact, and the snapshot of its last point.

    ``facts`` may come in any order: they are folded by ``(occurred_at, event_id)``. ``human``: the
    statuses people gave alerts by hand (acknowledged, resolved), by alert id.
    """
    ordered = sorted(facts, key=lambda f: (f.at, f.event_id))
    state = AccountState()
    held: dict[str, HeldAnswer] = {}
    snapshot: AccountSnapshot | None = None
    for index, fact in enumerate(ordered):
        if isinstance(fact, AnswerVersion):
            counted = state.fold(
                fact.held,
                held=held.get(fact.response_key),
                metric=fact.metric,
                score=fact.score,
                half_life=half_life,
            )
            if counted is not None:
                held[fact.response_key] = fact.held
        elif fact.moment in RENEWAL_MOMENTS:
            state.note_moment(fact.moment, fact.at)
        state.tick(fact.at, fact.event_id)
        if index + 1 == len(ordered) or day_start(ordered[index + 1].at) > day_start(fact.at):
            snapshot, _ = state.evaluate_point(
                account_id,
                people,
                human or {},
                thresholds=thresholds,
                half_life=half_life,
                renewal_date=renewal_date,
                risk_model=risk or DEFAULT_RISK_MODEL,
            )
    return state, snapshot


def risk_at(
    account_id: str,
    facts: Sequence[Fact],
    people: Mapping[str, PersonFacts],
    at: datetime,
    *,
    thresholds: Thresholds,
    half_life: timedelta,
    renewal_date: date | None,
    risk: RiskModel | None = None,
) -> AccountSnapshot | None:
    """The account as it read at ``at``, from the facts up to then (None if none is that old).

    What the risk model is fitted on: the factors a horizon before each renewal, knowing only what
    was known then.
    """
    known = [f for f in facts if f.at <= at]
    if not known:
        return None
    state, _ = replay(
        account_id, known, people, thresholds=thresholds, half_life=half_life, renewal_date=renewal_date, risk=risk
    )
    return state.snapshot(
        account_id,
        at,
        people,
        thresholds=thresholds,
        half_life=half_life,
        renewal_date=renewal_date,
        risk_model=risk or DEFAULT_RISK_MODEL,
    )
