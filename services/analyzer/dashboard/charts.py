"""Inline SVG charts drawn on the server: series in, SVG markup out.

Pure functions with no I/O and no JavaScript: a time chart (lines over dates with markers on the
time axis), a gap chart (two positions per row joined by a line) and a small bar. Colours come from
CSS classes, so the charts follow the stylesheet and need no inline styles (the dashboard's content
security policy forbids them). Every label is escaped.
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
