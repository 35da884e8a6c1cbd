"""An in-memory caller of the model: the per-event recipe of docs/model.md, with dicts for tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.analyzer.model import (
    DEFAULT_HALF_LIFE,
    DEFAULT_THRESHOLDS,
    EMPTY,
    AccountSnapshot,
    Answer,
    ClassicAnswer,
    DecayedState,
    HeldAnswer,
    StakeholderRecord,
    StateKey,
    Thresholds,
    build_snapshot,
    classic_scores,
    fold_answer,
    state_keys,
)
from services.analyzer.model.normalise import Metric
from services.analyzer.model.positions import Side

EVIDENCE_PER_PERSON = 5


@dataclass(frozen=True)
class Person:
    """Directory facts of one stakeholder."""

    role: str
    side: Side = "client"
    influence: float = 1.0
    known_since: datetime | None = None


@dataclass(frozen=True)
class Classic:
    """The latest answer of a person to a classic metric, with its version."""

    answer: ClassicAnswer
    version: tuple[datetime, str]


@dataclass
class AccountLedger:
    """What the analyzer persists for one account, held in dicts."""

    account_id: str
    people: dict[str, Person]
    half_life: timedelta = DEFAULT_HALF_LIFE
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    states: dict[StateKey, DecayedState] = field(default_factory=dict)
    held: dict[str, HeldAnswer] = field(default_factory=dict)
    classic: dict[tuple[str, str], Classic] = field(default_factory=dict)
    history: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    divergence_series: list[tuple[datetime, float]] = field(default_factory=list)
    mean_series: list[tuple[datetime, float]] = field(default_factory=list)

    def answer(
        self,
        *,
        response_id: str,
        stakeholder_id: str,
        value: float,
        at: datetime,
        event_id: str,
        dimension: str | None = None,
        metric: Metric = "rating",
        score: float = 0.0,
    ) -> bool:
        """Fold one survey answer in; False when it does not count (older version or replay)."""
        self.people.setdefault(stakeholder_id, Person("unassigned"))
        new = HeldAnswer.of(Answer(value, at, event_id), stakeholder_id=stakeholder_id, dimension=dimension)
        held = self.held.get(response_id)
        loaded = {key: self.states.get(key, EMPTY) for key in state_keys(new, held)}
        changed = fold_answer(new, held=held, states=loaded, half_life=self.half_life)
        if changed is None:
            return False
        self.states.update(changed)
        self.held[response_id] = new
        for stakeholder in {key[0] for key in changed}:
            position = self.states[(stakeholder, None)].position
            if position is not None:
                self.history.setdefault(stakeholder, []).append((at, position))
        key = (stakeholder_id, metric)
        prior = self.classic.get(key)
        if metric != "rating" and (prior is None or (at, event_id) > prior.version):
            self.classic[key] = Classic(ClassicAnswer(stakeholder_id, metric, score, value), (at, event_id))
        return True

    def evidence(self, stakeholder_id: str) -> tuple[str, ...]:
        """Event ids of the person's latest held answers, newest first (the same in any arrival order)."""
        mine = [h.answer for h in self.held.values() if h.stakeholder_id == stakeholder_id]
        mine.sort(key=lambda a: a.version, reverse=True)
        return tuple(a.event_id for a in mine[:EVIDENCE_PER_PERSON])

    def records(self) -> list[StakeholderRecord]:
        """Every person as ``build_snapshot`` wants them."""
        records = []
        for stakeholder_id, person in sorted(self.people.items()):
            dims = {k[1]: s for k, s in self.states.items() if k[0] == stakeholder_id and k[1] is not None}
            records.append(
                StakeholderRecord(
                    stakeholder_id=stakeholder_id,
                    role=person.role,
                    side=person.side,
                    influence=person.influence,
                    state=self.states.get((stakeholder_id, None), EMPTY),
                    dimensions=dims,
                    known_since=person.known_since,
                    evidence=self.evidence(stakeholder_id),
                    history=tuple(self.history.get(stakeholder_id, ())),
                )
            )
        return records

    def snapshot(
        self,
        as_of: datetime,
        *,
        renewal_date: date | None = None,
        renewal_moment_at: datetime | None = None,
        renewal_outcome_at: datetime | None = None,
        evidence: tuple[str, ...] = (),
    ) -> AccountSnapshot:
        """The account's figures as of ``as_of``."""
        client = [c.answer for (sid, _), c in self.classic.items() if self.people[sid].side == "client"]
        return build_snapshot(
            account_id=self.account_id,
            as_of=as_of,
            stakeholders=self.records(),
            thresholds=self.thresholds,
            half_life=self.half_life,
            divergence_series=self.divergence_series,
            mean_series=self.mean_series,
            renewal_date=renewal_date,
            renewal_moment_at=renewal_moment_at,
            renewal_outcome_at=renewal_outcome_at,
            classic=classic_scores(client),
            evidence=evidence,
        )

    def record(self, snapshot: AccountSnapshot) -> None:
        """Append the snapshot's divergence and mean to the recorded series."""
        if snapshot.divergence is not None:
            self.divergence_series.append((snapshot.as_of, snapshot.divergence.gap))
        if snapshot.account_mean is not None:
            self.mean_series.append((snapshot.as_of, snapshot.account_mean))
