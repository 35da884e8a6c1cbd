"""The portfolio page's view model: the API's ``PortfolioView`` laid out as a heat map, a trend and tables."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from services.analyzer.dashboard import charts, heatmap, markup
from services.analyzer.dashboard.figures import signed
from services.analyzer.dashboard.links import BASE
from services.analyzer.dashboard.templating import chart, render, role_class
from services.analyzer.portfolio.quarters import Quarter
from services.analyzer.portfolio.schemas import PortfolioView

NO_SEGMENT = "(no segment)"


def quarter_end(label: str) -> date:
    """The last day of a quarter labelled like ``2026-Q2``."""
    year, number = label.split("-Q")
    return Quarter(int(year), int(number)).end.date()


def heat(view: PortfolioView) -> markup.Markup | None:
    """The role x segment heat map (None when no role has a position)."""
    if not view.cells:
        return None
    segments = list(dict.fromkeys(c.segment for c in view.cells))
    roles = sorted({c.role for c in view.cells})
    found = {(c.segment, c.role): c for c in view.cells}
    cells = [
        [
            heatmap.HeatCell(found[(s, r)].position, found[(s, r)].se, found[(s, r)].accounts)
            if (s, r) in found
            else heatmap.HeatCell(None, None, 0)
            for s in segments
        ]
        for r in roles
    ]
    return heatmap.heat_map(
        roles, [s or NO_SEGMENT for s in segments], cells, label="Mean position per role and segment"
    )


def trend(view: PortfolioView) -> markup.Markup | None:
    """Each role's mean position over the selection per quarter end (None with fewer than one point)."""
    if not view.overall_trends:
        return None
    roles = sorted({p.role for p in view.overall_trends})
    found = {(p.role, p.quarter): p.position for p in view.overall_trends}
    series = [
        charts.Series(
            label=role,
            css_class=role_class(role),
            points=tuple((quarter_end(q), found.get((role, q))) for q in view.quarters),
        )
        for role in roles
    ]
    return charts.time_chart(
        series,
        start=quarter_end(view.quarters[0]),
        end=quarter_end(view.quarters[-1]),
        y_domain=(-1.0, 1.0),
        y_ticks=(-1.0, -0.5, 0.0, 0.5, 1.0),
        y_format=signed,
        label="Mean position per role at each quarter's end",
    )


def csv_href(segments: list[str]) -> str:
    """The page's CSV export, for the same segments."""
    query = urlencode([("segment", s) for s in segments])
    return f"{BASE}/portfolio/export.csv" + (f"?{query}" if query else "")


def portfolio_page(view: PortfolioView, *, all_segments: list[str], csrf: str) -> str:
    """The page: filters, heat map, trend chart, low sides, drivers and value at risk."""
    heat_svg, trend_svg = heat(view), trend(view)
    return render(
        "portfolio.html",
        title="Portfolio",
        csrf=csrf,
        active="portfolio",
        view=view,
        all_segments=all_segments,
        chosen=set(view.segments),
        heat_chart=chart(heat_svg) if heat_svg is not None else None,
        trend_chart=chart(trend_svg) if trend_svg is not None else None,
        roles=sorted({p.role for p in view.overall_trends}),
        no_segment=NO_SEGMENT,
        csv_href=csv_href(list(view.segments)),
    )
