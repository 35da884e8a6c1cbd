"""The SVG charts, the markup helper and the dashboard's own figures, as pure functions."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET  # our own SVG, not untrusted input
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from services.analyzer.dashboard import charts
from services.analyzer.dashboard.figures import (
    amount,
    day_count,
    days_to_renewal,
    label,
    nps_series,
    percent,
    signed,
)
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


def rules_chart(base_rate: float | None = 0.4) -> ET.Element:
    points = [
        charts.RulePoint("renewal_risk", 0.8, 0.6, emphasised=True),
        charts.RulePoint("nps_below_0", 0.8, 0.6),  # at the same place as the recommended rule
        charts.RulePoint("nps_below_-20", 0.8, 0.6),
        charts.RulePoint('<script>alert("x")</script>', 0.5, 1.0),
        charts.RulePoint("never_flags", None, 0.0),
    ]
    return ET.fromstring(  # noqa: S314
        charts.precision_recall_chart(points, base_rate=base_rate, label="Rules & recall", width=400, height=300)
    )


def rule_groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-rule") or "": g for g in root.iter(f"{SVG}g") if "rule-point" in (g.get("class") or "")}


def test_the_precision_recall_chart_draws_one_labelled_dot_per_measured_rule() -> None:
    root = rules_chart()
    assert root.tag == f"{SVG}svg"
    assert root.get("aria-label") == "Rules & recall"
    groups = rule_groups(root)
    assert set(groups) == {"renewal_risk", "nps_below_0", "nps_below_-20", '<script>alert("x")</script>'}
    assert "never_flags" not in ET.tostring(root, encoding="unicode"), "a rule without a precision is not drawn"
    for name, group in groups.items():
        assert group.findtext(f"{SVG}text") == name
        assert (group.findtext(f"{SVG}title") or "").startswith(f"{name}: precision ")
    # x: 56 .. 384 over recall 0 .. 1; y: 254 (0) .. 16 (1).
    dot = groups["renewal_risk"].find(f"{SVG}circle[@class='rule-dot']")
    assert dot is not None
    assert (dot.get("cx"), dot.get("cy")) == ("252.8", "63.6")
    assert groups["renewal_risk"].findtext(f"{SVG}title") == "renewal_risk: precision 80%, recall 60%"


def test_the_recommended_rule_is_emphasised_and_drawn_on_top() -> None:
    root = rules_chart()
    groups = rule_groups(root)
    recommended = groups["renewal_risk"]
    assert recommended.get("class") == "rule-point recommended"
    assert all(g.get("class") == "rule-point" for name, g in groups.items() if name != "renewal_risk")
    assert recommended.find(f"{SVG}circle[@class='rule-ring']") is not None
    radius = {name: float(g.find(f"{SVG}circle[@class='rule-dot']").get("r", "0")) for name, g in groups.items()}  # type: ignore[union-attr]
    assert radius["renewal_risk"] > radius["nps_below_0"]
    drawn = [g.get("data-rule") for g in root.iter(f"{SVG}g") if "rule-point" in (g.get("class") or "")]
    assert drawn[-1] == "renewal_risk", "the emphasised dot comes last, above the others at its place"


def test_labels_of_rules_at_one_place_do_not_overlap() -> None:
    groups = rule_groups(rules_chart())
    baselines = []
    for name in ("renewal_risk", "nps_below_0", "nps_below_-20"):
        text = groups[name].find(f"{SVG}text")
        assert text is not None
        baselines.append(float(text.get("y") or 0))
    assert baselines[0] < baselines[1] < baselines[2], "the recommended rule's label first, the others below"
    assert min(b - a for a, b in itertools.pairwise(baselines)) >= 12


def test_the_base_rate_is_a_dashed_line_at_its_precision() -> None:
    root = rules_chart(base_rate=0.25)
    base = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "base-rate")
    line = base.find(f"{SVG}line")
    assert line is not None
    assert line.get("class") == "base-rate-line"  # dashed by the stylesheet
    assert line.get("y1") == line.get("y2") == "194.5"
    assert base.findtext(f"{SVG}text") == "base rate 25%"
    assert not [g for g in rules_chart(base_rate=None).iter(f"{SVG}g") if g.get("class") == "base-rate"]


def test_rule_names_cannot_inject_markup_into_the_chart() -> None:
    svg = charts.precision_recall_chart(
        [charts.RulePoint('x" onmouseover="y', 0.5, 0.5), charts.RulePoint("<script>", 0.2, 0.2, emphasised=True)],
        base_rate=0.1,
        label='<b>"chart"</b>',
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'onmouseover="y' not in svg
    assert "<b>" not in svg
    ET.fromstring(svg)  # noqa: S314


@pytest.mark.parametrize(
    ("value", "cls", "x", "width"),
    [
        (None, "zero", "60.0", "0.0"),
        (0.0, "zero", "60.0", "0.0"),
        (1.0, "up", "60.0", "30.0"),
        (-2.0, "down", "0.0", "60.0"),
        (9.0, "up", "60.0", "60.0"),
    ],
)
def test_a_diverging_bar_grows_right_for_positive_and_left_for_negative(
    value: float | None, cls: str, x: str, width: str
) -> None:
    root = ET.fromstring(  # noqa: S314
        charts.diverging_bar(value, maximum=2.0)
    )
    assert root.get("class") == f"bar diverging {cls}"
    fill = next(r for r in root.findall(f"{SVG}rect") if r.get("class") == "bar-fill")
    assert (fill.get("x"), fill.get("width")) == (x, width)


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
    assert (percent(0.4449), percent(0.05, 1), percent(1.0), percent(None)) == ("44%", "5.0%", "100%", "\N{EN DASH}")
    assert (label("executive_sponsor"), label("it"), label("all")) == ("Executive sponsor", "IT", "All answers")
    assert re.fullmatch(r"[A-Z].*", label("support_close"))
