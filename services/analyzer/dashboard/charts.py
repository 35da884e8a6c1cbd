"""Inline SVG charts drawn on the server: series in, SVG markup out.

Pure functions with no I/O and no JavaScript: a time chart (lines over dates with markers on the
time axis), a gap chart (two positions per row joined by a line), a precision-recall chart (one
labelled dot per rule, a dashed line at the base rate), a small bar and a bar either side of zero.
Colours come from CSS classes, so the charts follow the stylesheet and need no inline styles (the
dashboard's content security policy forbids them). Every label is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from services.analyzer.dashboard.markup import Markup, join, render

_CLASS = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")


@dataclass(frozen=True, slots=True)
class Linear:
    """Maps ``domain`` linearly onto ``range`` (a zero-width domain maps to the middle)."""

    domain: tuple[float, float]
    range: tuple[float, float]

    def __call__(self, value: float) -> float:
        (d0, d1), (r0, r1) = self.domain, self.range
        if d1 == d0:
            return (r0 + r1) / 2
        return r0 + (value - d0) * (r1 - r0) / (d1 - d0)


@dataclass(frozen=True, slots=True)
class Series:
    """One line of a time chart: a label, a CSS class for its colour, and its points (None: no value)."""

    label: str
    css_class: str
    points: tuple[tuple[date, float | None], ...]
    dots: bool = True


@dataclass(frozen=True, slots=True)
class Marker:
    """Something that happened on a day, marked on the time axis."""

    at: date
    label: str
    kind: Literal["moment", "alert"]


@dataclass(frozen=True, slots=True)
class GapRow:
    """One row of a gap chart: what the client side and the supplier side report."""

    label: str
    client: float | None
    supplier: float | None


@dataclass(frozen=True, slots=True)
class RulePoint:
    """One rule of a precision-recall chart (None: not measured, the rule is not drawn)."""

    label: str
    precision: float | None
    recall: float | None
    emphasised: bool = False


def css_class(name: str) -> str:
    """``name`` if it is a plain CSS class name, else a neutral one (never markup from data)."""
    return name if _CLASS.match(name) else "series"


def _num(value: float) -> str:
    return f"{value:.1f}"


def path_data(points: Sequence[tuple[float, float] | None]) -> str:
    """SVG path data through ``points``; a ``None`` breaks the line (the next point starts anew)."""
    parts: list[str] = []
    pen_down = False
    for point in points:
        if point is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{_num(point[0])} {_num(point[1])}")
        pen_down = True
    return "".join(parts)


def date_ticks(start: date, end: date, *, most: int = 8) -> list[date]:
    """Tick dates between ``start`` and ``end``: month starts (every n months) or, over a short span, Mondays."""
    if end < start:
        return []
    if (end - start).days < 62:
        first = start + timedelta(days=-start.weekday() % 7)
        weeks = [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]
        step = max(1, -(-len(weeks) // most))
        return weeks[::step]
    months = []
    year, month = start.year, start.month
    if start.day != 1:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    while date(year, month, 1) <= end:
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    step = max(1, -(-len(months) // most))
    return months[::step]


def _tick_label(day: date, previous: date | None) -> str:
    if day.day != 1:
        return day.strftime("%d %b")
    if previous is None or previous.year != day.year:
        return day.strftime("%b %Y")
    return day.strftime("%b")


def time_chart(
    series: Sequence[Series],
    *,
    start: date,
    end: date,
    y_domain: tuple[float, float],
    y_ticks: Sequence[float],
    y_format: Callable[[float], str],
    label: str,
    markers: Sequence[Marker] = (),
    width: int = 1140,
    height: int = 260,
    baseline: float | None = 0.0,
) -> Markup:
    """Lines over dates with a y axis, date ticks, an optional baseline and markers on the time axis."""
    left, right, top, bottom = 44, 12, 18, 28
    if start == end:
        start, end = start - timedelta(days=1), end + timedelta(days=1)
    x = Linear((start.toordinal(), end.toordinal()), (left, width - right))
    y = Linear(y_domain, (height - bottom, top))
    parts: list[Markup] = []
    for tick in y_ticks:
        parts.append(
            render(
                '<line class="grid" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>'
                '<text class="tick" x="{tx}" y="{ty}" text-anchor="end">{text}</text>',
                x1=left,
                x2=width - right,
                y=_num(y(tick)),
                tx=left - 6,
                ty=_num(y(tick) + 4),
                text=y_format(tick),
            )
        )
    if baseline is not None and y_domain[0] <= baseline <= y_domain[1]:
        parts.append(
            render(
                '<line class="baseline" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>',
                x1=left,
                x2=width - right,
                y=_num(y(baseline)),
            )
        )
    previous: date | None = None
    for tick_day in date_ticks(start, end):
        parts.append(
            render(
                '<line class="grid grid-x" x1="{x}" x2="{x}" y1="{y1}" y2="{y2}"/>'
                '<text class="tick" x="{x}" y="{ty}" text-anchor="middle">{text}</text>',
                x=_num(x(tick_day.toordinal())),
                y1=top,
                y2=height - bottom,
                ty=height - bottom + 16,
                text=_tick_label(tick_day, previous),
            )
        )
        previous = tick_day
    for marker in markers:
        if not start <= marker.at <= end:
            continue
        mx = _num(x(marker.at.toordinal()))
        if marker.kind == "alert":
            glyph = render(
                '<path class="glyph" d="M{x0} {y0}L{x1} {y0}L{x} {y1}Z"/>',
                x0=_num(x(marker.at.toordinal()) - 5),
                x1=_num(x(marker.at.toordinal()) + 5),
                x=mx,
                y0=top - 8,
                y1=top + 1,
            )
        else:
            glyph = render('<circle class="glyph" cx="{x}" cy="{y}" r="4"/>', x=mx, y=height - bottom)
        parts.append(
            render(
                '<g class="marker marker-{kind}"><title>{title}</title>'
                '<line class="marker-line" x1="{x}" x2="{x}" y1="{y1}" y2="{y2}"/>{glyph}</g>',
                kind=marker.kind,
                title=f"{marker.at.isoformat()}: {marker.label}",
                x=mx,
                y1=top,
                y2=height - bottom,
                glyph=glyph,
            )
        )
    for line in series:
        coords = [None if v is None else (x(d.toordinal()), y(v)) for d, v in line.points]
        dots = (
            join(
                render('<circle cx="{x}" cy="{y}" r="2.5"/>', x=_num(c[0]), y=_num(c[1]))
                for c in coords
                if c is not None
            )
            if line.dots
            else Markup("")
        )
        parts.append(
            render(
                '<g class="series {cls}"><title>{title}</title><path d="{d}"/>{dots}</g>',
                cls=css_class(line.css_class),
                title=line.label,
                d=path_data(coords),
                dots=dots,
            )
        )
    return render(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}"'
        ' xmlns="http://www.w3.org/2000/svg">{body}</svg>',
        w=width,
        h=height,
        label=label,
        body=join(parts),
    )


def gap_chart(rows: Sequence[GapRow], *, label: str, width: int = 760, row_height: int = 30) -> Markup:
    """Per row, the client's and the supplier's position on -1 … +1, joined by the gap between them."""
    left, right, top = 150, 16, 24
    height = top + row_height * max(1, len(rows)) + 8
    x = Linear((-1.0, 1.0), (left, width - right))
    parts: list[Markup] = []
    for tick in (-1.0, -0.5, 0.0, 0.5, 1.0):
        parts.append(
            render(
                '<line class="{cls}" x1="{x}" x2="{x}" y1="{y1}" y2="{y2}"/>'
                '<text class="tick" x="{x}" y="{ty}" text-anchor="middle">{text}</text>',
                cls="baseline" if tick == 0 else "grid grid-x",
                x=_num(x(tick)),
                y1=top - 6,
                y2=height - 4,
                ty=top - 10,
                text=f"{tick:+.1f}" if tick else "0",
            )
        )
    for n, row in enumerate(rows):
        cy = top + row_height * n + row_height / 2
        cells = [
            render(
                '<text class="row-label" x="{x}" y="{y}" text-anchor="end">{text}</text>',
                x=left - 12,
                y=_num(cy + 4),
                text=row.label,
            )
        ]
        if row.client is not None and row.supplier is not None:
            cells.append(
                render(
                    '<line class="gap-line" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>',
                    x1=_num(x(row.client)),
                    x2=_num(x(row.supplier)),
                    y=_num(cy),
                )
            )
        for side, value in (("client", row.client), ("supplier", row.supplier)):
            if value is not None:
                cells.append(
                    render(
                        '<circle class="dot-{side}" cx="{x}" cy="{y}" r="6"><title>{title}</title></circle>',
                        side=side,
                        x=_num(x(value)),
                        y=_num(cy),
                        title=f"{row.label}: {side} {value:+.2f}",
                    )
                )
        parts.append(render('<g class="gap-row">{cells}</g>', cells=join(cells)))
    return render(
        '<svg class="chart gap-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}"'
        ' xmlns="http://www.w3.org/2000/svg">{body}</svg>',
        w=width,
        h=_num(height),
        label=label,
        body=join(parts),
    )


def bar(value: float | None, *, maximum: float, css: str = "bar", width: int = 72, height: int = 8) -> Markup:
    """A small horizontal bar: ``value`` as a share of ``maximum`` (nothing drawn for None)."""
    share = 0.0 if value is None or maximum <= 0 else min(1.0, max(0.0, value / maximum))
    return render(
        '<svg class="bar {cls}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-hidden="true"'
        ' xmlns="http://www.w3.org/2000/svg"><rect class="bar-track" width="{w}" height="{h}" rx="{r}"/>'
        '<rect class="bar-fill" width="{fill}" height="{h}" rx="{r}"/></svg>',
        cls=css_class(css),
        w=width,
        h=height,
        r=height / 2,
        fill=_num(width * share),
    )


_CHAR_WIDTH = 6.3  # px per character of an 11px label, a little wide: labels are kept apart by estimate
_LINE = 14.0  # px from one label's baseline to the next


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


@dataclass(frozen=True, slots=True)
class _Spot:
    """A dot to label: its centre, its text, how far from the centre the text starts, whether it goes first."""

    x: float
    y: float
    text: str
    gap: float = 10.0
    first: bool = False


Box = tuple[float, float, float, float]  # x0, x1, top, bottom


def _label_boxes(
    spots: Sequence[_Spot], *, right_edge: float, bottom_edge: float, taken: Sequence[Box] = ()
) -> list[tuple[float, float, str]]:
    """Where each dot's label goes: ``(x, baseline, text-anchor)``, right of the dot (left of it near the
    right edge), moved down (and, with no room below, up) past the labels already placed and the boxes
    ``taken``, so that no two overlap. Top to bottom; at one place, the ``first`` dot's label first."""
    placed: list[Box] = list(taken)
    out: list[tuple[float, float, str]] = [(0.0, 0.0, "start")] * len(spots)
    for index in sorted(range(len(spots)), key=lambda i: (round(spots[i].y), not spots[i].first, spots[i].x)):
        spot = spots[index]
        size = len(spot.text) * _CHAR_WIDTH
        anchor = "start" if spot.x + spot.gap + size <= right_edge else "end"
        x0 = spot.x + spot.gap if anchor == "start" else spot.x - spot.gap - size
        baseline = spot.y + 4

        def clash(b: float, x0: float = x0, size: float = size) -> Box | None:
            return next((p for p in placed if x0 < p[1] and p[0] < x0 + size and b - 10 < p[3] and p[2] < b + 2), None)

        while (hit := clash(baseline)) is not None and hit[3] + _LINE - 2 <= bottom_edge:
            baseline = hit[3] + _LINE - 2
        while (hit := clash(baseline)) is not None:  # no room below: above what is in the way
            baseline = hit[2] - 4
        placed.append((x0, x0 + size, baseline - 10, baseline + 2))
        out[index] = (x0 if anchor == "start" else x0 + size, baseline, anchor)
    return out


def precision_recall_chart(
    points: Sequence[RulePoint],
    *,
    base_rate: float | None,
    label: str,
    width: int = 560,
    height: int = 380,
) -> Markup:
    """Each rule as a dot at (recall, precision), labelled, the emphasised one larger and ringed, with a
    dashed line at the base rate: the precision of flagging every renewal, which a rule must beat."""
    left, right, top, bottom = 56, 16, 16, 46
    x = Linear((0.0, 1.0), (left, width - right))
    y = Linear((0.0, 1.0), (height - bottom, top))
    parts: list[Markup] = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            render(
                '<line class="grid" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>'
                '<text class="tick" x="{tx}" y="{ty}" text-anchor="end">{text}</text>'
                '<line class="grid grid-x" x1="{x}" x2="{x}" y1="{y1}" y2="{y2}"/>'
                '<text class="tick" x="{x}" y="{bx}" text-anchor="middle">{text}</text>',
                x1=left,
                x2=width - right,
                y=_num(y(tick)),
                tx=left - 6,
                ty=_num(y(tick) + 4),
                x=_num(x(tick)),
                y1=top,
                y2=height - bottom,
                bx=height - bottom + 16,
                text=_percent(tick),
            )
        )
    parts.append(
        render(
            '<text class="axis-title" x="{x}" y="{y}" text-anchor="middle">Recall: share of bad renewals flagged</text>'
            '<text class="axis-title" x="{tx}" y="{ty}" text-anchor="middle" transform="rotate(-90 {tx} {ty})">'
            "Precision: flagged that went badly</text>",
            x=_num((left + width - right) / 2),
            y=height - 8,
            tx=14,
            ty=_num((top + height - bottom) / 2),
        )
    )
    taken: list[Box] = []
    if base_rate is not None and 0.0 <= base_rate <= 1.0:
        text = f"base rate {_percent(base_rate)}"
        baseline = y(base_rate) + (14 if base_rate > 0.9 else -5)
        taken.append((width - right - len(text) * _CHAR_WIDTH, width - right, baseline - 10, baseline + 2))
        parts.append(
            render(
                '<g class="base-rate"><title>{title}</title>'
                '<line class="base-rate-line" x1="{x1}" x2="{x2}" y1="{y}" y2="{y}"/>'
                '<text class="base-rate-label" x="{x2}" y="{ty}" text-anchor="end">{text}</text></g>',
                title=f"Base rate {_percent(base_rate)}: the precision of flagging every renewal",
                x1=left,
                x2=width - right,
                y=_num(y(base_rate)),
                ty=_num(baseline),
                text=text,
            )
        )
    drawn = [p for p in points if p.precision is not None and p.recall is not None]
    # The emphasised dot last, on top of any other at the same place; its label first, nearest to it.
    drawn.sort(key=lambda p: p.emphasised)
    spots = [
        _Spot(x(p.recall or 0.0), y(p.precision or 0.0), p.label, 15.0 if p.emphasised else 9.0, p.emphasised)
        for p in drawn
    ]
    # No label over a dot (nor over the emphasised dot's ring).
    taken += [(s.x - s.gap + 3, s.x + s.gap - 3, s.y - s.gap + 3, s.y + s.gap - 3) for s in spots]
    labels = _label_boxes(spots, right_edge=width - right, bottom_edge=height - bottom - 4, taken=taken)
    for point, spot, (lx, ly, anchor) in zip(drawn, spots, labels, strict=True):
        cx, cy = spot.x, spot.y
        ring = render('<circle class="rule-ring" cx="{x}" cy="{y}" r="11"/>', x=_num(cx), y=_num(cy))
        parts.append(
            render(
                '<g class="{cls}" data-rule="{rule}"><title>{title}</title>{ring}'
                '<circle class="rule-dot" cx="{x}" cy="{y}" r="{r}"/>'
                '<text class="rule-label" x="{lx}" y="{ly}" text-anchor="{anchor}">{rule}</text></g>',
                cls="rule-point recommended" if point.emphasised else "rule-point",
                rule=point.label,
                title=f"{point.label}: precision {_percent(point.precision or 0.0)},"
                f" recall {_percent(point.recall or 0.0)}",
                ring=ring if point.emphasised else Markup(""),
                x=_num(cx),
                y=_num(cy),
                r=7 if point.emphasised else 5,
                lx=_num(lx),
                ly=_num(ly),
                anchor=anchor,
            )
        )
    return render(
        '<svg class="chart pr-chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{label}"'
        ' xmlns="http://www.w3.org/2000/svg">{body}</svg>',
        w=width,
        h=height,
        label=label,
        body=join(parts),
    )


def diverging_bar(value: float | None, *, maximum: float, width: int = 120, height: int = 10) -> Markup:
    """A bar from a middle line: right for a positive ``value`` (class ``up``), left for a negative one
    (``down``), its length ``value`` as a share of ``maximum`` (nothing drawn for None or 0)."""
    share = 0.0 if value is None or maximum <= 0 else min(1.0, abs(value) / maximum)
    half = width / 2
    length = half * share
    start = half if (value or 0.0) >= 0 else half - length
    return render(
        '<svg class="bar diverging {cls}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-hidden="true"'
        ' xmlns="http://www.w3.org/2000/svg"><rect class="bar-track" width="{w}" height="{h}" rx="2"/>'
        '<rect class="bar-fill" x="{x}" width="{fill}" height="{h}" rx="2"/>'
        '<line class="bar-zero" x1="{mid}" x2="{mid}" y1="0" y2="{h}"/></svg>',
        cls="up" if (value or 0.0) > 0 else "down" if (value or 0.0) < 0 else "zero",
        w=width,
        h=height,
        x=_num(start),
        fill=_num(length),
        mid=_num(half),
    )
