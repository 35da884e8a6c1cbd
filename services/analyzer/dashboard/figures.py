"""The dashboard's own figures and number formats: pure functions over what the analyzer holds.

Everything the model computes (positions, the account mean, divergence, the classic scores) comes
from the model and the API's code; this module only adds what a page needs beside them: days to
renewal, the classic NPS at the end of each history bucket, the bucket size that suits a span, and
how numbers are written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Final, Protocol

from services.analyzer.model import nps_score

# The alert types whose open alert puts an account's annual value at risk.
RISK_TYPES: Final = ("stakeholder_divergence", "divergence_widening", "masked_by_average", "renewal_risk")
DASH: Final = "\N{EN DASH}"
# Most buckets the account chart draws before it moves to a larger bucket.
CHART_BUCKETS: Final = 120


class NpsAnswer(Protocol):
    """What the NPS series reads of a stored answer (``Response`` rows fit)."""

    @property
    def stakeholder_id(self) -> str: ...

    @property
    def metric(self) -> str: ...

    @property
    def score(self) -> float: ...

    @property
    def occurred_at(self) -> datetime: ...

    @property
    def event_id(self) -> str: ...


def days_to_renewal(renewal_date: date | None, today: date) -> int | None:
    """Whole days from ``today`` to the renewal date (negative once it has passed)."""
    return None if renewal_date is None else (renewal_date - today).days


def nps_series(answers: Sequence[NpsAnswer], sides: Mapping[str, str], as_of: Sequence[datetime]) -> list[float | None]:
    """The classic account NPS as of each time in ``as_of`` (ascending), the way the account view counts it.

    The latest NPS answer of each client-side person up to that time (a person unknown to the
    directory counts as client side, as in the model), promoters minus detractors in per cent.
    ``answers`` must be sorted by time and event id, as ``current_answers`` returns them.
    """
    latest: dict[str, tuple[datetime, str, float]] = {}
    values: list[float | None] = []
    index = 0
    ordered = sorted((a for a in answers if a.metric == "nps"), key=lambda a: (a.occurred_at, a.event_id))
    for cut in as_of:
        while index < len(ordered) and ordered[index].occurred_at <= cut:
            answer = ordered[index]
            if sides.get(answer.stakeholder_id, "client") == "client":
                latest[answer.stakeholder_id] = (answer.occurred_at, answer.event_id, answer.score)
            index += 1
        values.append(nps_score(score for _, _, score in latest.values()))
    return values


def signed(value: float | None, digits: int = 2) -> str:
    """A position-like figure with its sign: ``+0.48``, ``-0.04``; a dash when missing."""
    if value is None:
        return DASH
    return f"{value:+.{digits}f}"


def plain(value: float | None, digits: int = 2) -> str:
    """An unsigned figure (divergence, confidence); a dash when missing."""
    return DASH if value is None else f"{value:.{digits}f}"


def percent(value: float | None, digits: int = 0) -> str:
    """A probability or share in per cent: ``37%``; a dash when missing."""
    return DASH if value is None else f"{value * 100:.{digits}f}%"


def amount(value: float | None) -> str:
    """A contract value with thousands separators (no currency: the events carry none)."""
    if value is None:
        return DASH
    return f"{value:,.0f}" if abs(value - round(value)) < 0.005 else f"{value:,.2f}"


def day_count(days: int | None) -> str:
    """Days to renewal in words: ``in 63 days``, ``today``, ``12 days ago``."""
    if days is None:
        return DASH
    if days == 0:
        return "today"
    if days > 0:
        return f"in {days} day{'s' if days != 1 else ''}"
    return f"{-days} day{'s' if days != -1 else ''} ago"


_WORDS: Final = {"it": "IT", "nps": "NPS", "qbr": "QBR", "all": "All answers"}


def label(name: str) -> str:
    """A role, type or dimension for people: ``executive_sponsor`` → ``Executive sponsor``, ``it`` → ``IT``."""
    if name in _WORDS:
        return _WORDS[name]
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]
