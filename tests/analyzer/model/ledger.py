"""The model's per-event recipe driven from tests: production ``AccountState`` plus a dict of answers.

The steps themselves (folding an answer version, remembering classic answers, evidence and
positions, recording the series) are the production code of ``services/analyzer/model/
account_state.py``; this wrapper only stands in for the tables the analyzer keeps beside the state:
the current version of each answer and the directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.analyzer.model import (
    DEFAULT_HALF_LIFE,
    DEFAULT_THRESHOLDS,
    AccountSnapshot,
    Answer,
    HeldAnswer,
    StakeholderRecord,
    Thresholds,
)
from services.analyzer.model.account_state import AccountState, PersonFacts
from services.analyzer.model.normalise import Metric

Person = PersonFacts


@dataclass
class AccountLedger:
    """One account's model state, its answers' current versions and its directory, in memory."""

    account_id: str
    people: dict[str, Person]
    half_life: timedelta = DEFAULT_HALF_LIFE
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    state: AccountState = field(default_factory=AccountState)
    held: dict[str, HeldAnswer] = field(default_factory=dict)

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
        moved = self.state.fold(
            new,
            held=self.held.get(response_id),
            metric=metric,
            score=score,
            half_life=self.half_life,
        )
        if moved is None:
            return False
        self.held[response_id] = new
        return True

    def records(self) -> list[StakeholderRecord]:
        """Every person as ``build_snapshot`` wants them."""
        return self.state.records(self.people)

    def snapshot(
        self,
        as_of: datetime,
        *,
        renewal_date: date | None = None,
        renewal_moment_at: datetime | None = None,
        renewal_outcome_at: datetime | None = None,
        evidence: tuple[str, ...] = (),
    ) -> AccountSnapshot:
        """The account's figures as of ``as_of`` (with the renewal moments the caller noted)."""
        for moment, at in (("renewal_approach", renewal_moment_at), ("renewal_outcome", renewal_outcome_at)):
            if at is not None:
                self.state.note_moment(moment, at)
        return self.state.snapshot(
            self.account_id,
            as_of,
            self.people,
            thresholds=self.thresholds,
            half_life=self.half_life,
            renewal_date=renewal_date,
            evidence=evidence,
        )

    def record(self, snapshot: AccountSnapshot) -> None:
        """Record the snapshot as an evaluation point (divergence, mean, positions)."""
        self.state.record_points(snapshot, self.thresholds)
