"""The backtest's arithmetic (docs/api.md, "Backtest"), pure: no database, no clock.

A *renewal* is a ``renewal_outcome`` journey moment with a known outcome; churned and downsized are
the *bad* outcomes. A *rule* is a set of *spans* per account, the stretches of event time during which
it flagged the account: an alert from its opening to the moment its condition cleared, a classic
rule while the account NPS stood below its line. A renewal is *flagged* by a rule when one of the
account's spans overlaps its lookback window, ``[renewal - lookback, renewal)`` cut at the account's
previous renewal (what was flagged before that one concerned it). The *lead time* is the time from the
first flagged instant inside the window to the renewal.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from services.analyzer.model.normalise import nps_score

Outcome = Literal["renewed", "downsized", "churned"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("renewed", "downsized", "churned")
BAD_OUTCOMES: Final[frozenset[str]] = frozenset({"downsized", "churned"})
DAY_S: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class Renewal:
    """One renewal with a known outcome, at the time of its ``renewal_outcome`` moment."""

    account_id: str
    at: datetime
    outcome: Outcome

    @property
    def bad(self) -> bool:
        """Whether the account churned or downsized."""
        return self.outcome in BAD_OUTCOMES


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of event time during which a rule flagged an account; ``end`` None: still flagged."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class NpsAnswer:
    """One client person's NPS answer (the version that counts)."""

    stakeholder_id: str
    at: datetime
    event_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one rule said about one renewal: flagged or not, and how many days ahead."""

    renewal: Renewal
    lead_days: float | None  # None: not flagged in the window

    @property
    def flagged(self) -> bool:
        """Whether the rule flagged the account inside the window."""
        return self.lead_days is not None


@dataclass(frozen=True, slots=True)
class RuleScore:
    """One rule over every renewal: the confusion counts, precision, recall and lead time."""

    rule: str
    flagged: int
    caught: int  # bad outcomes flagged (true positives)
    false_alarms: int  # renewed accounts flagged
    missed: int  # bad outcomes not flagged
    precision: float | None  # caught / flagged; None when nothing was flagged
    recall: float | None  # caught / bad outcomes; None when there is no bad outcome
    median_lead_days: float | None  # over the caught renewals
    verdicts: tuple[Verdict, ...]


def window_start(renewal: Renewal, lookback: timedelta, previous: datetime | None) -> datetime:
    """The start of the renewal's lookback window, never before the account's previous renewal."""
    start = renewal.at - lookback
    return start if previous is None or previous < start else previous


def lead_days(spans: Iterable[Span], start: datetime, renewal_at: datetime) -> float | None:
    """Days from the first flagged instant in ``[start, renewal_at)`` to the renewal, or None."""
    first: datetime | None = None
    for span in spans:
        if span.start < renewal_at and (span.end is None or span.end > start):
            flagged_from = max(span.start, start)
            first = flagged_from if first is None else min(first, flagged_from)
    return None if first is None else (renewal_at - first).total_seconds() / DAY_S


def previous_renewals(renewals: Sequence[Renewal]) -> dict[Renewal, datetime | None]:
    """For each renewal, the time of the same account's renewal before it (None for the first)."""
    previous: dict[Renewal, datetime | None] = {}
    last: dict[str, datetime] = {}
    for renewal in sorted(renewals, key=lambda r: (r.account_id, r.at)):
        previous[renewal] = last.get(renewal.account_id)
        last[renewal.account_id] = renewal.at
    return previous


def score_rule(
    rule: str,
    renewals: Sequence[Renewal],
    spans: Mapping[str, Sequence[Span]],
    lookback: timedelta,
) -> RuleScore:
    """Score one rule, whose spans are given per account, over ``renewals``."""
    previous = previous_renewals(renewals)
    verdicts = tuple(
        Verdict(r, lead_days(spans.get(r.account_id, ()), window_start(r, lookback, previous[r]), r.at))
        for r in sorted(renewals, key=lambda r: (r.at, r.account_id))
    )
    flagged = [v for v in verdicts if v.flagged]
    caught = [v for v in flagged if v.renewal.bad]
    bad = sum(1 for v in verdicts if v.renewal.bad)
    leads = [v.lead_days for v in caught if v.lead_days is not None]
    return RuleScore(
        rule=rule,
        flagged=len(flagged),
        caught=len(caught),
        false_alarms=len(flagged) - len(caught),
        missed=bad - len(caught),
        precision=len(caught) / len(flagged) if flagged else None,
        recall=len(caught) / bad if bad else None,
        median_lead_days=statistics.median(leads) if leads else None,
        verdicts=verdicts,
    )


def nps_series(answers: Iterable[NpsAnswer]) -> list[tuple[datetime, float]]:
    """The account NPS after each answer time: latest answer per person, in event-time order.

    Answers of one instant are taken together, so the series has one point per distinct time.
    """
    latest: dict[str, float] = {}
    series: list[tuple[datetime, float]] = []
    for answer in sorted(answers, key=lambda a: (a.at, a.event_id)):
        latest[answer.stakeholder_id] = answer.score
        score = nps_score(latest.values())
        assert score is not None  # at least this answer is held
        if series and series[-1][0] == answer.at:
            series[-1] = (answer.at, score)
        else:
            series.append((answer.at, score))
    return series


def below_spans(series: Sequence[tuple[datetime, float]], line: float) -> list[Span]:
    """The spans during which the series stood strictly below ``line``."""
    spans: list[Span] = []
    start: datetime | None = None
    for at, value in series:
        if value < line and start is None:
            start = at
        elif value >= line and start is not None:
            spans.append(Span(start, at))
            start = None
    if start is not None:
        spans.append(Span(start, None))
    return spans
