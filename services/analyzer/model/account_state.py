"""The model's incremental state of one account, as typed values: what is kept between events.

Everything here is pure. The analyzer keeps one ``AccountState`` per account (encoded for the
database by ``services/analyzer/db/account_state_codec.py``); its size depends on the account's people
and the model's windows, never on how long the account's history is. The per-event recipe of
docs/model.md is ``fold`` for an answer version, ``note_moment`` for a journey moment, then the
rules over ``snapshot`` and ``record_series`` with the result.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from services.analyzer.model.alerts import AlertStatus
from services.analyzer.model.answers import HeldAnswer, StateKey, fold_answer, state_keys
from services.analyzer.model.decay import EMPTY, DecayedState
from services.analyzer.model.divergence import Point, value_at
from services.analyzer.model.lifecycle import Transition
from services.analyzer.model.normalise import ClassicAnswer, Metric, classic_scores
from services.analyzer.model.positions import Side
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, RiskModel
from services.analyzer.model.rules import evaluate
from services.analyzer.model.snapshot import AccountSnapshot, StakeholderRecord, build_snapshot
from services.analyzer.model.thresholds import Thresholds
from services.analyzer.model.timeline import AlertTimeline

EVIDENCE_PER_PERSON: Final = 5
RESOLUTION: Final = timedelta(microseconds=1)  # the finest step between two event times
RENEWAL_MOMENTS: Final = {"renewal_approach", "renewal_outcome"}


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What the directory says of one person, as the model needs it."""

    role: str = "unassigned"
    side: Side = "client"
    influence: float = 1.0
    known_since: datetime | None = None
    # Whether they decide the renewal; None: as their role does by default.
    decision_maker: bool | None = None


@dataclass(frozen=True, slots=True)
class ClassicVersion:
    """A person's latest answer to a classic metric (NPS, CSAT, ...), with its version."""

    answer: ClassicAnswer
    at: datetime
    event_id: str


@dataclass(frozen=True, slots=True)
class PositionChange:
    """A person's position after an answer moved it."""

    stakeholder_id: str
    position: float
    answers: int


def prune(series: list[Point], now: datetime, window: timedelta) -> list[Point]:
    """Keep the points inside the window plus the last one before it (the window's baseline).

    ``series`` is sorted by time; the cut is found by bisection.
    """
    first_inside = bisect_left(series, now - window, key=lambda p: p[0])
    return series[max(0, first_inside - 1) :]


def day_start(at: datetime) -> datetime:
    """The start (UTC midnight) of the day ``at`` falls on: evaluation points are per day."""
    return datetime.combine(at.astimezone(UTC).date(), time(), UTC)


def drop_from(series: list[Point], start: datetime) -> None:
    """Remove the points at ``start`` or later (the newest day's, about to be recorded again)."""
    cut = bisect_left(series, start, key=lambda p: p[0])
    del series[cut:]


def add_point(series: list[Point], point: Point) -> None:
    """Insert a point keeping the series sorted (appending is the common, in-order case)."""
    if not series or series[-1] <= point:
        series.append(point)
    else:
        insort(series, point)


@dataclass
class AccountState:
    """Decayed states per person and dimension, the latest classic answers, recent positions and
    evidence per person, the divergence and mean at each evaluation point, the latest renewal
    moments, the account's event clock and its alert timeline."""

    states: dict[StateKey, DecayedState] = field(default_factory=dict)
    classic: dict[tuple[str, str], ClassicVersion] = field(default_factory=dict)
    history: dict[str, list[Point]] = field(default_factory=dict)
    evidence: dict[str, list[tuple[datetime, str]]] = field(default_factory=dict)
    divergence_series: list[Point] = field(default_factory=list)
    mean_series: list[Point] = field(default_factory=list)
    # The mean position of the roles of the people who decide the renewal, over the trend window.
    decider_series: list[Point] = field(default_factory=list)
    # Each client role's position at the evaluation points where it changed, over the trend window.
    role_series: dict[str, list[Point]] = field(default_factory=dict)
    # The renewal risk at each evaluation point, over the risk horizon, and, per renewal outcome,
    # the risk the horizon before it: the prediction the outcome is checked against.
    risk_series: list[Point] = field(default_factory=list)
    predictions: dict[datetime, float] = field(default_factory=dict)
    renewal_moment_at: datetime | None = None
    renewal_outcome_at: datetime | None = None
    # The latest event time folded in, and the id of that event (the newest evaluation point).
    clock: datetime | None = None
    clock_event: str | None = None
    timeline: AlertTimeline = field(default_factory=AlertTimeline)
    # Read from a document an earlier model wrote: rebuild it from its events before using it.
    outdated: bool = field(default=False, compare=False)

    def tick(self, at: datetime, event_id: str) -> None:
        """Move the account's event clock to an event just folded in (never back)."""
        if self.clock is None or (at, event_id) > (self.clock, self.clock_event or ""):
            self.clock, self.clock_event = at, event_id

    def fold(
        self,
        new: HeldAnswer,
        *,
        held: HeldAnswer | None,
        metric: Metric,
        score: float,
        half_life: timedelta,
    ) -> list[PositionChange] | None:
        """Fold a new version of an answer in (``held``: the version it replaces, if any).

        Returns the positions it moved, or None when it does not count (an older version, a replay).
        """
        loaded = {key: self.states.get(key, EMPTY) for key in state_keys(new, held)}
        changed = fold_answer(new, held=held, states=loaded, half_life=half_life)
        if changed is None:
            return None
        self.states.update(changed)
        self._remember_classic(new, metric, score)
        self._remember_evidence(new, held)
        moved = []
        for stakeholder_id in sorted({key[0] for key in changed}):
            state = self.states[(stakeholder_id, None)]
            position = state.position
            if position is not None:
                moved.append(PositionChange(stakeholder_id, position, state.n))
        return moved

    def _remember_classic(self, new: HeldAnswer, metric: Metric, score: float) -> None:
        if metric == "rating":
            return
        key = (new.stakeholder_id, metric)
        prior = self.classic.get(key)
        if prior is None or (new.answer.at, new.answer.event_id) > (prior.at, prior.event_id):
            answer = ClassicAnswer(new.stakeholder_id, metric, score, new.answer.value)
            self.classic[key] = ClassicVersion(answer, new.answer.at, new.answer.event_id)

    def _remember_evidence(self, new: HeldAnswer, held: HeldAnswer | None) -> None:
        # The latest current versions: a replaced version leaves (its successor ranks above it), so
        # the list is the same whatever order the versions arrived in.
        if held is not None:
            replaced = self.evidence.get(held.stakeholder_id, [])
            if (held.answer.at, held.answer.event_id) in replaced:
                replaced.remove((held.answer.at, held.answer.event_id))
        items = self.evidence.setdefault(new.stakeholder_id, [])
        if (new.answer.at, new.answer.event_id) not in items:
            items.append((new.answer.at, new.answer.event_id))
        items.sort(reverse=True)
        del items[EVIDENCE_PER_PERSON:]

    def note_moment(self, moment: str, at: datetime) -> bool:
        """Remember the latest renewal moments (they open and close the renewal window)."""
        if moment == "renewal_approach" and (self.renewal_moment_at is None or self.renewal_moment_at < at):
            self.renewal_moment_at = at
            return True
        if moment == "renewal_outcome" and (self.renewal_outcome_at is None or self.renewal_outcome_at < at):
            self.renewal_outcome_at = at
            return True
        return False

    def records(self, people: Mapping[str, PersonFacts]) -> list[StakeholderRecord]:
        """Every person with a state or in the directory, as ``build_snapshot`` wants them."""
        overall: dict[str, DecayedState] = {}
        dimensions: dict[str, dict[str, DecayedState]] = {}
        for (stakeholder_id, dimension), state in self.states.items():
            if dimension is None:
                overall[stakeholder_id] = state
            else:
                dimensions.setdefault(stakeholder_id, {})[dimension] = state
        unknown = PersonFacts()
        records = []
        for stakeholder_id in sorted(overall.keys() | dimensions.keys() | people.keys()):
            person = people.get(stakeholder_id, unknown)
            records.append(
                StakeholderRecord(
                    stakeholder_id=stakeholder_id,
                    role=person.role,
                    side=person.side,
                    influence=person.influence,
                    state=overall.get(stakeholder_id, EMPTY),
                    dimensions=dimensions.get(stakeholder_id, {}),
                    known_since=person.known_since,
                    evidence=tuple(event_id for _, event_id in self.evidence.get(stakeholder_id, ())),
                    history=tuple(self.history.get(stakeholder_id, ())),
                    decision_maker=person.decision_maker,
                ),
            )
        return records

    def snapshot(
        self,
        account_id: str,
        as_of: datetime,
        people: Mapping[str, PersonFacts],
        *,
        thresholds: Thresholds,
        half_life: timedelta,
        renewal_date: date | None = None,
        evidence: Sequence[str] = (),
        risk_model: RiskModel = DEFAULT_RISK_MODEL,
    ) -> AccountSnapshot:
        """The account's figures as of ``as_of``: what the rules read."""
        client = [
            version.answer
            for (stakeholder_id, _), version in self.classic.items()
            if people.get(stakeholder_id, PersonFacts()).side == "client"
        ]
        return build_snapshot(
            account_id=account_id,
            as_of=as_of,
            stakeholders=self.records(people),
            thresholds=thresholds,
            half_life=half_life,
            divergence_series=self.divergence_series,
            mean_series=self.mean_series,
            decider_series=self.decider_series,
            role_series=self.role_series,
            renewal_date=renewal_date,
            renewal_moment_at=self.renewal_moment_at,
            renewal_outcome_at=self.renewal_outcome_at,
            classic=classic_scores(client),
            evidence=evidence,
            risk_model=risk_model,
        )

    def record_points(self, snapshot: AccountSnapshot, thresholds: Thresholds) -> None:
        """Record an evaluation point: divergence, mean and every client position, pruned to windows.

        A person's point is recorded only when their position differs from their previous point,
        so quiet people cost nothing.
        """
        at = snapshot.as_of
        outcome = self.renewal_outcome_at
        if outcome is not None and day_start(outcome) == day_start(at):
            # The renewal is decided today: keep what the risk said a horizon before it (if it spoke),
            # read before the series is pruned to the window ending now.
            before = value_at(self.risk_series, outcome - thresholds.risk_horizon)
            if before is not None:
                self.predictions[outcome] = before[1]
        for series, value, window in (
            (self.divergence_series, snapshot.divergence.gap if snapshot.divergence else None, thresholds.trend_window),
            (self.mean_series, snapshot.account_mean, thresholds.trend_window),
            (self.decider_series, snapshot.decision_makers_mean, thresholds.trend_window),
            (self.risk_series, snapshot.risk.probability if snapshot.risk else None, thresholds.risk_horizon),
        ):
            if value is not None:
                add_point(series, (at, value))
                series[:] = prune(series, at, window)
        for role in snapshot.roles:
            points = self.role_series.setdefault(role.role, [])
            if not points or points[-1][1] != role.position:
                add_point(points, (at, role.position))
            self.role_series[role.role] = prune(points, at, thresholds.trend_window)
        for person in snapshot.stakeholders:
            if person.position is None:
                continue
            history = self.history.setdefault(person.stakeholder_id, [])
            if not history or history[-1][1] != person.position:
                add_point(history, (at, person.position))
            self.history[person.stakeholder_id] = prune(history, at, thresholds.drop_window)

    def drop_points_from(self, start: datetime) -> None:
        """Take back the points recorded at ``start`` or later."""
        drop_from(self.divergence_series, start)
        drop_from(self.mean_series, start)
        drop_from(self.decider_series, start)
        drop_from(self.risk_series, start)
        for outcome in [t for t in self.predictions if t >= start]:
            del self.predictions[outcome]
        for history in self.history.values():
            drop_from(history, start)
        for points in self.role_series.values():
            drop_from(points, start)

    def evaluate_point(
        self,
        account_id: str,
        people: Mapping[str, PersonFacts],
        human: Mapping[str, AlertStatus],
        *,
        thresholds: Thresholds,
        half_life: timedelta,
        renewal_date: date | None,
        now: datetime | None = None,
        risk_model: RiskModel = DEFAULT_RISK_MODEL,
    ) -> tuple[AccountSnapshot, list[Transition]]:
        """Evaluate the rules at the newest evaluation point and move the alert timeline on.

        Without ``now``: the point is the account's clock; what an earlier evaluation of the same
        day found (and any wall-clock evaluation after it) is taken back first, since more events
        of that day may have arrived, and the point's figures are recorded. With ``now`` (later than
        the clock): a wall-clock evaluation on top of the newest point, taken back by the next one
        and by the next event; it records no figures.
        """
        assert self.clock is not None, "an account without events has no evaluation point"
        if now is None:
            as_of, evidence = self.clock, (self.clock_event,) if self.clock_event else ()
            start = day_start(as_of)
            self.timeline.rewind(start)
            self.drop_points_from(start)
        else:
            as_of, evidence = now, ()
            self.timeline.rewind(self.clock + RESOLUTION)
        snapshot = self.snapshot(
            account_id,
            as_of,
            people,
            thresholds=thresholds,
            half_life=half_life,
            renewal_date=renewal_date,
            evidence=evidence,
            risk_model=risk_model,
        )
        active = self.timeline.active(human)
        changes = self.timeline.step(account_id, as_of, evaluate(snapshot, thresholds, active), active)
        if now is None:
            self.record_points(snapshot, thresholds)
        return snapshot, changes
