"""The portfolio's figures from each account's facts (pure): what docs/model.md, "Portfolio", describes.

Each account is one voice: a segment's figure for a role is the plain mean over the accounts where the
role has a position, never a pool of their answers, so one account with many respondents does not speak
for its segment. Its standard error adds the accounts' own measurement errors to the spread between them:

    se² = Σ se_i² / n² + s² / n      (s²: the sample variance of the n positions; 0 for one account)

The spread already holds some measurement noise, so this errs on the wide side, as the answer noise does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

# The value-at-risk row of an account whose risk names no decision-making role.
UNATTRIBUTED: Final = "unattributed"

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class RoleFigure:
    """One client role's position (-1 ... +1) in one account, with its standard error (None: unknown)."""

    role: str
    position: float
    se: float | None


@dataclass(frozen=True, slots=True)
class ThemeMention:
    """A theme the low role's comments name: in how many comments, and their mean polarity."""

    theme: str
    count: int
    polarity: float


@dataclass(frozen=True, slots=True)
class QuarterFacts:
    """An account as of one quarter's end: its client role positions and its widest gap."""

    quarter: str
    roles: Mapping[str, float]
    gap: float | None
    low_role: str | None


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What the portfolio reads of one account (built by ``service``; no personal data)."""

    account_id: str
    segment: str | None
    annual_value: float | None
    roles: tuple[RoleFigure, ...] = ()
    gap: float | None = None
    high_role: str | None = None
    low_role: str | None = None
    # Per dimension: the high role's position there minus the low role's (both roles heard on it).
    dimension_gaps: Mapping[str, float] = field(default_factory=dict)
    low_themes: tuple[ThemeMention, ...] = ()
    risk: float | None = None
    # The decision-making role the risk model found lowest (``Risk.lowest_role``).
    risk_role: str | None = None
    quarters: tuple[QuarterFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class Cell:
    """One role in one segment: mean position over the accounts where it has one, and its standard error."""

    segment: str | None
    role: str
    accounts: int
    position: float
    se: float | None


@dataclass(frozen=True, slots=True)
class LowSide:
    """How often a role is the low side of its account's widest gap, in one segment."""

    segment: str | None
    role: str
    low_in: int
    split_accounts: int
    share: float
    mean_gap: float


@dataclass(frozen=True, slots=True)
class DimensionDriver:
    """A dimension on which the high role stands above the low role, over a segment's split accounts."""

    segment: str | None
    dimension: str
    accounts: int
    mean_gap: float


@dataclass(frozen=True, slots=True)
class ThemeDriver:
    """A theme the low roles of a segment's split accounts talk about."""

    segment: str | None
    theme: str
    accounts: int
    mentions: int
    polarity: float


@dataclass(frozen=True, slots=True)
class ValueAtRisk:
    """Expected value at risk (risk x annual value) of a segment, attributed to the lowest decision role."""

    segment: str | None
    role: str
    accounts: int
    annual_value: float
    value_at_risk: float


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """A role's mean position over the accounts of a segment (or of the selection) as of one quarter's end."""

    segment: str | None
    role: str
    quarter: str
    accounts: int
    position: float


@dataclass(frozen=True, slots=True)
class GapTrend:
    """The mean widest gap of a segment's (or the selection's) split accounts at a quarter's end; its usual low role."""

    segment: str | None
    quarter: str
    split_accounts: int
    mean_gap: float | None
    most_often_low: str | None


@dataclass(frozen=True, slots=True)
class Portfolio:
    """Every figure of the portfolio view."""

    accounts: int
    cells: tuple[Cell, ...]
    low_sides: tuple[LowSide, ...]
    dimensions: tuple[DimensionDriver, ...]
    themes: tuple[ThemeDriver, ...]
    value_at_risk: tuple[ValueAtRisk, ...]
    quarters: tuple[str, ...]
    trends: tuple[TrendPoint, ...]
    gap_trends: tuple[GapTrend, ...]
    # The same over every selected account together (their ``segment`` is None and means "all").
    overall_trends: tuple[TrendPoint, ...]
    overall_gaps: tuple[GapTrend, ...]


def mean_se(positions: Sequence[float], errors: Sequence[float | None]) -> tuple[float, float | None]:
    """The mean of ``positions`` (one per account) and its standard error (module docstring); None if any is unknown."""
    if not positions:
        raise ValueError("no positions")
    n = len(positions)
    mean = math.fsum(positions) / n
    if any(e is None or not math.isfinite(e) for e in errors):
        return mean, None
    measured = math.fsum(e * e for e in errors if e is not None) / (n * n)
    spread = math.fsum((p - mean) ** 2 for p in positions) / (n - 1) if n > 1 else 0.0
    return mean, math.sqrt(measured + spread / n)


def _segment_key(segment: str | None) -> tuple[bool, str]:
    """Named segments by name, the accounts without a segment last."""
    return (segment is None, segment or "")


def _group(accounts: Iterable[AccountFacts], key: Callable[[AccountFacts], K]) -> dict[K, list[AccountFacts]]:
    groups: dict[K, list[AccountFacts]] = {}
    for account in accounts:
        groups.setdefault(key(account), []).append(account)
    return groups


def cells(accounts: Sequence[AccountFacts]) -> list[Cell]:
    """Role x segment positions with their standard errors, by segment then role."""
    found: dict[tuple[str | None, str], list[RoleFigure]] = {}
    for account in accounts:
        for role in account.roles:
            found.setdefault((account.segment, role.role), []).append(role)
    result = []
    for (segment, name), figures in sorted(found.items(), key=lambda kv: (_segment_key(kv[0][0]), kv[0][1])):
        mean, se = mean_se([f.position for f in figures], [f.se for f in figures])
        result.append(Cell(segment, name, len(figures), mean, se))
    return result


def low_sides(accounts: Sequence[AccountFacts]) -> list[LowSide]:
    """Per segment, each role that is the low side of a widest gap: how often, of the split accounts."""
    result = []
    for segment, members in sorted(_group(accounts, lambda a: a.segment).items(), key=lambda kv: _segment_key(kv[0])):
        split = [a for a in members if a.low_role is not None and a.gap is not None]
        by_role = _group(split, lambda a: a.low_role or "")
        rows = [
            LowSide(
                segment=segment,
                role=role,
                low_in=len(items),
                split_accounts=len(split),
                share=len(items) / len(split),
                mean_gap=math.fsum(a.gap or 0.0 for a in items) / len(items),
            )
            for role, items in by_role.items()
        ]
        result.extend(sorted(rows, key=lambda r: (-r.low_in, -r.mean_gap, r.role)))
    return result


def dimension_drivers(accounts: Sequence[AccountFacts]) -> list[DimensionDriver]:
    """Per segment, the dimensions on which the high role leads the low one, widest mean gap first."""
    result = []
    for segment, members in sorted(_group(accounts, lambda a: a.segment).items(), key=lambda kv: _segment_key(kv[0])):
        gaps: dict[str, list[float]] = {}
        for account in members:
            for dimension, gap in account.dimension_gaps.items():
                gaps.setdefault(dimension, []).append(gap)
        rows = [DimensionDriver(segment, d, len(v), math.fsum(v) / len(v)) for d, v in gaps.items()]
        result.extend(sorted(rows, key=lambda r: (-r.mean_gap, -r.accounts, r.dimension)))
    return result


def theme_drivers(accounts: Sequence[AccountFacts]) -> list[ThemeDriver]:
    """Per segment, the themes of the low roles' comments: named in most split accounts first."""
    result = []
    for segment, members in sorted(_group(accounts, lambda a: a.segment).items(), key=lambda kv: _segment_key(kv[0])):
        found: dict[str, list[ThemeMention]] = {}
        for account in members:
            if account.low_role is None:
                continue
            for mention in account.low_themes:
                found.setdefault(mention.theme, []).append(mention)
        rows = []
        for theme, mentions in found.items():
            total = sum(m.count for m in mentions)
            polarity = math.fsum(m.polarity * m.count for m in mentions) / total
            rows.append(ThemeDriver(segment, theme, len(mentions), total, polarity))
        result.extend(sorted(rows, key=lambda r: (-r.accounts, -r.mentions, r.theme)))
    return result


def values_at_risk(accounts: Sequence[AccountFacts]) -> list[ValueAtRisk]:
    """Per segment and lowest decision role, the summed risk x annual value of accounts with both known."""
    found: dict[tuple[str | None, str], list[AccountFacts]] = {}
    for account in accounts:
        if account.risk is None or account.annual_value is None:
            continue
        found.setdefault((account.segment, account.risk_role or UNATTRIBUTED), []).append(account)
    rows = [
        ValueAtRisk(
            segment=segment,
            role=role,
            accounts=len(items),
            annual_value=math.fsum(a.annual_value or 0.0 for a in items),
            value_at_risk=math.fsum((a.risk or 0.0) * (a.annual_value or 0.0) for a in items),
        )
        for (segment, role), items in found.items()
    ]
    return sorted(rows, key=lambda r: (_segment_key(r.segment), -r.value_at_risk, r.role))


def _trend_rows(segment: str | None, members: Sequence[AccountFacts], quarters: Sequence[str]) -> list[TrendPoint]:
    rows: list[TrendPoint] = []
    for quarter in quarters:
        positions: dict[str, list[float]] = {}
        for account in members:
            for q in account.quarters:
                if q.quarter == quarter:
                    for role, position in q.roles.items():
                        positions.setdefault(role, []).append(position)
        rows.extend(
            TrendPoint(segment, role, quarter, len(values), math.fsum(values) / len(values))
            for role, values in sorted(positions.items())
        )
    return rows


def _gap_rows(segment: str | None, members: Sequence[AccountFacts], quarters: Sequence[str]) -> list[GapTrend]:
    rows: list[GapTrend] = []
    for quarter in quarters:
        held = [q for a in members for q in a.quarters if q.quarter == quarter and q.gap is not None]
        lows: dict[str, int] = {}
        for q in held:
            if q.low_role is not None:
                lows[q.low_role] = lows.get(q.low_role, 0) + 1
        most = min(lows, key=lambda r: (-lows[r], r)) if lows else None
        mean = math.fsum(q.gap or 0.0 for q in held) / len(held) if held else None
        rows.append(GapTrend(segment, quarter, len(held), mean, most))
    return rows


def portfolio(accounts: Sequence[AccountFacts], quarters: Sequence[str]) -> Portfolio:
    """Every figure of the view over ``accounts``; trends per segment and for the whole selection."""
    by_segment = sorted(_group(accounts, lambda a: a.segment).items(), key=lambda kv: _segment_key(kv[0]))
    trends = [p for segment, members in by_segment for p in _trend_rows(segment, members, quarters)]
    gap_trends = [g for segment, members in by_segment for g in _gap_rows(segment, members, quarters)]
    return Portfolio(
        accounts=len(accounts),
        cells=tuple(cells(accounts)),
        low_sides=tuple(low_sides(accounts)),
        dimensions=tuple(dimension_drivers(accounts)),
        themes=tuple(theme_drivers(accounts)),
        value_at_risk=tuple(values_at_risk(accounts)),
        quarters=tuple(quarters),
        trends=tuple(trends),
        gap_trends=tuple(gap_trends),
        overall_trends=tuple(_trend_rows(None, accounts, quarters)),
        overall_gaps=tuple(_gap_rows(None, accounts, quarters)),
    )
