"""The SVG charts, the markup helper and the dashboard's own figures, as pure functions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # our own SVG, not untrusted input
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from services.analyzer.dashboard import charts
from services.analyzer.dashboard.figures import amount, day_count, days_to_renewal, label, nps_series, signed
from services.analyzer.dashboard.markup import Markup, escape, join, render

SVG = "{http://www.w3.org/2000/svg}"


def test_linear_maps_the_domain_onto_the_range_both_ways_up() -> None:
    y = charts.Linear((-1.0, 1.0), (200.0, 0.0))
    assert (y(-1.0), y(0.0), y(1.0), y(0.5)) == (200.0, 100.0, 0.0, 50.0)
    assert charts.Linear((3.0, 3.0), (0.0, 10.0))(3.0) == 5.0


def test_path_data_breaks_the_line_at_a_missing_value() -> None:
    assert charts.path_data([(0, 1), (10, 2), None, (30, 4), (40, 5)]) == "M0.0 1.0L10.0 2.0M30.0 4.0L40.0 5.0"
    assert charts.path_data([None, None]) == ""
    assert charts.path_data([(1.25, 2.75)]) == "M1.2 2.8"


def test_date_ticks_are_month_starts_over_a_long_span_and_mondays_over_a_short_one() -> None:
    assert charts.date_ticks(date(2026, 1, 12), date(2026, 5, 3)) == [date(2026, m, 1) for m in (2, 3, 4, 5)]
    year = charts.date_ticks(date(2026, 1, 1), date(2027, 6, 30), most=6)
    assert len(year) <= 6
    assert all(d.day == 1 for d in year)
    weeks = charts.date_ticks(date(2026, 3, 4), date(2026, 3, 25))
    assert weeks == [date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]
    assert charts.date_ticks(date(2026, 3, 4), date(2026, 3, 1)) == []


def chart() -> Markup:
    series = [
        charts.Series("IT", "role-it", ((date(2026, 1, 5), 0.5), (date(2026, 2, 5), None), (date(2026, 3, 5), -0.5))),
        charts.Series("<b>Mean</b>", 'mean" onload="x', ((date(2026, 1, 5), 0.0), (date(2026, 3, 5), 0.25))),
    ]
    markers = [
        charts.Marker(date(2026, 2, 1), "renewal_approach <script>", "moment"),
        charts.Marker(date(2026, 2, 20), "Stakeholder divergence alert opened", "alert"),
        charts.Marker(date(2025, 1, 1), "before the chart", "moment"),
    ]
    return charts.time_chart(
        series,
        start=date(2026, 1, 5),
        end=date(2026, 3, 5),
        y_domain=(-1.0, 1.0),
        y_ticks=(-1.0, 0.0, 1.0),
        y_format=lambda v: f"{v:+.1f}",
        label="Positions & mean",
        markers=markers,
        width=600,
        height=200,
    )


def test_the_time_chart_is_well_formed_svg_with_one_group_per_series_and_marker() -> None:
    root = ET.fromstring(  # noqa: S314
        chart()
    )
    assert root.tag == f"{SVG}svg"
    assert root.get("aria-label") == "Positions & mean"
    groups = root.findall(f"{SVG}g")
    series = [g for g in groups if "series" in (g.get("class") or "")]
    markers = [g for g in groups if "marker" in (g.get("class") or "")]
    assert [g.findtext(f"{SVG}title") for g in series] == ["IT", "<b>Mean</b>"]
    assert len(markers) == 2, "a marker outside the span is not drawn"
    assert {m.get("class") for m in markers} == {"marker marker-moment", "marker marker-alert"}


def test_the_time_chart_places_points_on_the_scales() -> None:
    root = ET.fromstring(  # noqa: S314
        chart()
    )
    it = next(g for g in root.findall(f"{SVG}g") if g.findtext(f"{SVG}title") == "IT")
    # x: 44 .. 588 over 59 days; y: 172 (-1) .. 18 (+1); the missing February value breaks the line.
    assert it.find(f"{SVG}path").get("d") == "M44.0 56.5M588.0 133.5"  # type: ignore[union-attr]
    assert [(c.get("cx"), c.get("cy")) for c in it.findall(f"{SVG}circle")] == [("44.0", "56.5"), ("588.0", "133.5")]


def test_labels_and_classes_from_data_cannot_inject_markup() -> None:
    svg = chart()
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'onload="x' not in svg
    assert charts.css_class('mean" onload="x') == "series"
    assert charts.css_class("role-executive-sponsor") == "role-executive-sponsor"


def test_the_gap_chart_draws_both_sides_and_the_gap_only_when_both_exist() -> None:
    rows = [charts.GapRow("Support", -0.5, 1.0), charts.GapRow("Value", 0.2, None)]
    root = ET.fromstring(  # noqa: S314
        charts.gap_chart(rows, label="gaps", width=400)
    )
    support, value = [g for g in root.findall(f"{SVG}g") if g.get("class") == "gap-row"]
    assert [c.get("class") for c in support.findall(f"{SVG}circle")] == ["dot-client", "dot-supplier"]
    assert support.find(f"{SVG}line") is not None
    assert value.find(f"{SVG}line") is None
    # x: 150 .. 384 over -1 .. +1
    assert [c.get("cx") for c in support.findall(f"{SVG}circle")] == ["208.5", "384.0"]


@pytest.mark.parametrize(("value", "width"), [(None, "0.0"), (0.0, "0.0"), (1.0, "36.0"), (2.0, "72.0"), (5.0, "72.0")])
def test_a_bar_fills_its_share_of_the_maximum(value: float | None, width: str) -> None:
    root = ET.fromstring(  # noqa: S314
        charts.bar(value, maximum=2.0)
    )
    fill = next(r for r in root.findall(f"{SVG}rect") if r.get("class") == "bar-fill")
    assert fill.get("width") == width


def test_render_escapes_every_value_but_markup() -> None:
    html = render('<a href="{href}">{text}</a>{raw}', href='x" onclick="y', text="<b>&", raw=Markup("<i>ok</i>"))
    assert html == '<a href="x&quot; onclick=&quot;y">&lt;b&gt;&amp;</a><i>ok</i>'
    assert escape(None) == ""
    assert escape("it's") == "it&#x27;s"
    assert join([Markup("<p>"), "<"]) == "<p>&lt;"
    assert isinstance(render("{x}", x=1), Markup)


@dataclass(frozen=True)
class A:
    stakeholder_id: str
    metric: str
    score: float
    occurred_at: datetime
    event_id: str


def at(day: int) -> datetime:
    return datetime(2026, 5, day, 12, tzinfo=UTC)


def test_nps_series_counts_the_latest_answer_per_client_person_up_to_each_time() -> None:
    answers = [
        A("ann", "nps", 10, at(1), "e1"),
        A("bob", "nps", 3, at(2), "e2"),
        A("sam", "nps", 0, at(2), "e3"),  # supplier side: never counted
        A("ann", "csat", 1, at(3), "e4"),  # another metric
        A("bob", "nps", 9, at(4), "e5"),  # replaces bob's 3
        A("new", "nps", 7, at(4), "e6"),  # unknown to the directory: client side
    ]
    sides = {"ann": "client", "bob": "client", "sam": "supplier"}
    series = nps_series(answers, sides, [at(1) - (at(2) - at(1)), at(1), at(2), at(3), at(4)])
    assert series == [None, 100.0, 0.0, 0.0, pytest.approx(200 / 3)]


def test_figures_for_people() -> None:
    assert days_to_renewal(date(2027, 2, 1), date(2026, 11, 30)) == 63
    assert days_to_renewal(date(2026, 11, 20), date(2026, 11, 30)) == -10
    assert days_to_renewal(None, date(2026, 11, 30)) is None
    assert [day_count(n) for n in (63, 1, 0, -1, -10, None)] == [
        "in 63 days",
        "in 1 day",
        "today",
        "1 day ago",
        "10 days ago",
        "\N{EN DASH}",
    ]
    assert (signed(0.4812), signed(-0.04), signed(12.5, 0), signed(None)) == ("+0.48", "-0.04", "+12", "\N{EN DASH}")
    assert (amount(120000), amount(1234.5), amount(None)) == ("120,000", "1,234.50", "\N{EN DASH}")
    assert (label("executive_sponsor"), label("it"), label("all")) == ("Executive sponsor", "IT", "All answers")
    assert re.fullmatch(r"[A-Z].*", label("support_close"))
