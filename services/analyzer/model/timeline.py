"""An account's alert timeline in event time: every episode of every alert and its changes.

The rules are evaluated at the account's *evaluation points*, one per day that has events, as of the
day's latest event (docs/model.md, "Event time"). Each evaluation moves the timeline on with the
lifecycle of ``lifecycle.py``; the timeline remembers, per episode, each change with its as-of time
and figures, so that the evaluation of the newest day (which more events of that day may still
change) can be taken back and done again (``rewind``). The same events, in any arrival order, give
the same points and so the same timeline.

An episode's id is derived from the account, the alert's type and key and the episode's number (the
n-th time this alert opened at this account), never from the event that happened to trigger it: a
later re-evaluation that opens the same episode from another event keeps the id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from services.analyzer.model.alerts import ActiveAlert, AlertStatus, AlertType, Condition, Severity
from services.analyzer.model.lifecycle import Transition, alert_id, transitions

ChangeKind = Literal["open", "update", "resolve"]
Identity = tuple[AlertType, str | None]


@dataclass(frozen=True, slots=True)
class Change:
    """One change of an episode: when (event time), what, the severity after it and the figures found."""

    as_of: datetime
    kind: ChangeKind
    severity: Severity
    # The condition's part of the alert record (``Condition.as_dict``); None when it cleared.
    condition: Mapping[str, Any] | None = None


@dataclass(slots=True)
class Episode:
    """One alert from its opening to its resolution by its condition clearing."""

    alert_id: str
    type: AlertType
    key: str | None
    number: int
    changes: list[Change] = field(default_factory=list)

    @property
    def identity(self) -> Identity:
        """One alert per (type, key) and account at a time."""
        return (self.type, self.key)

    @property
    def opened_as_of(self) -> datetime:
        """When it opened (event time)."""
        return self.changes[0].as_of

    @property
    def last(self) -> Change:
        """Its latest change."""
        return self.changes[-1]

    @property
    def severity(self) -> Severity:
        """Its severity now."""
        return self.last.severity

    @property
    def resolved_as_of(self) -> datetime | None:
        """When its condition cleared (event time), None while it holds."""
        return self.last.as_of if self.last.kind == "resolve" else None

    @property
    def condition(self) -> Mapping[str, Any]:
        """The figures of its latest change that carried a condition."""
        for change in reversed(self.changes):
            if change.condition is not None:
                return change.condition
        return {}


@dataclass
class AlertTimeline:
    """The episodes an account still needs to move on (open ones, and those closed on the newest
    day), and how many episodes each alert has had so far."""

    episodes: list[Episode] = field(default_factory=list)
    numbers: dict[Identity, int] = field(default_factory=dict)

    def open_episodes(self) -> list[Episode]:
        """The episodes whose condition still holds."""
        return [e for e in self.episodes if e.resolved_as_of is None]

    def rewind(self, to: datetime) -> None:
        """Take back every change made as of ``to`` or later (the newest day's evaluation)."""
        kept: list[Episode] = []
        for episode in self.episodes:
            episode.changes = [c for c in episode.changes if c.as_of < to]
            if episode.changes:
                kept.append(episode)
            else:
                # It opened at or after ``to``: it was the newest episode of its alert.
                self.numbers[episode.identity] = episode.number - 1
                if self.numbers[episode.identity] == 0:
                    del self.numbers[episode.identity]
        self.episodes = kept

    def signature(self) -> tuple[tuple[str, tuple[Change, ...]], ...]:
        """What the timeline holds, to tell later whether anything in it changed (changes are immutable)."""
        return tuple((e.alert_id, tuple(e.changes)) for e in self.episodes)

    def prune(self, before: datetime) -> None:
        """Forget episodes that closed before ``before``: no rewind can reach them any more."""
        self.episodes = [e for e in self.episodes if e.resolved_as_of is None or e.resolved_as_of >= before]

    def active(self, human: Mapping[str, AlertStatus]) -> list[ActiveAlert]:
        """The open episodes as the rules and the lifecycle see them.

        ``human`` gives the status people set on open alerts (acknowledged, or resolved by hand and
        muted until the condition clears); the others are open.
        """
        return [
            ActiveAlert(e.alert_id, e.type, e.key, e.severity, human.get(e.alert_id, AlertStatus.OPEN), e.opened_as_of)
            for e in self.open_episodes()
        ]

    def step(
        self,
        account_id: str,
        as_of: datetime,
        conditions: Sequence[Condition],
        active: Sequence[ActiveAlert],
    ) -> list[Transition]:
        """Move the timeline on to the conditions found as of ``as_of``; return what changed.

        ``active``: ``self.active(...)``, which the rules were given too.
        """
        by_id = {e.alert_id: e for e in self.episodes}
        changes = transitions(account_id=account_id, active=active, conditions=conditions, trigger="")
        result: list[Transition] = []
        for change in changes:
            if change.kind == "unchanged":
                continue
            if change.kind == "open":
                number = self.numbers.get(change.identity, 0) + 1
                self.numbers[change.identity] = number
                new_id = alert_id(account_id, change.type, change.key, f"episode:{number}")
                change = replace(change, alert_id=new_id)
                self.episodes.append(Episode(new_id, change.type, change.key, number))
                by_id[new_id] = self.episodes[-1]
            kind: ChangeKind = "resolve" if change.kind in ("resolve", "release") else change.kind  # type: ignore[assignment]
            condition = None if change.condition is None else change.condition.as_dict()
            by_id[change.alert_id].changes.append(Change(as_of, kind, change.severity, condition))
            result.append(change)
        return result
