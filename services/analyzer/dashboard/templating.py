"""The dashboard's Jinja2 environment: the templates of this package, autoescape on, the figures as filters.

Every value a template prints is escaped unless it is ``markupsafe.Markup``; the only ``Markup`` the
pages hand in is a chart (see ``chart``). Filters format figures the way the JSON API's numbers are
read on the page (``signed``, ``percent``, ...); globals build the links between pages.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Final, get_args

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from services.analyzer.dashboard import charts, links, markup
from services.analyzer.dashboard.figures import DASH, amount, day_count, days_to_renewal, label, percent, plain, signed
from services.analyzer.model.alerts import AlertStatus
from services.analyzer.model.positions import UNASSIGNED
from services.analyzer.plans.lifecycle import MOVES, OPEN
from shared.events import Role

TEMPLATES: Final = Path(__file__).parent / "templates"
KNOWN_ROLES: Final = frozenset({*get_args(Role), UNASSIGNED})  # each has its colour in the stylesheet


def chart(svg: markup.Markup) -> Markup:
    """A chart of ``charts`` as markup a template prints as it is.

    Trusting it is safe because ``charts`` builds every SVG from literal templates through
    ``markup.render``, which escapes each value (labels, titles, classes) it inserts; nothing from the
    database reaches the SVG unescaped. Only a chart's return value may be passed here.
    """
    return Markup(svg)  # noqa: S704 - escaped piece by piece by markup.render (see the docstring)


def whole(value: float | None) -> str:
    """A money figure rounded to whole units (a risk-weighted value has no meaningful cents)."""
    return amount(None if value is None else round(value))


def day(value: date | datetime | None) -> str:
    """A date (or the date of a moment) as ``2026-05-01``; a dash when missing."""
    if value is None:
        return DASH
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def moment(value: datetime | None) -> str:
    """A moment to the minute, in UTC; a dash when missing."""
    return DASH if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def role_class(role: str) -> str:
    """The CSS class that colours a role the same on every chart and legend."""
    return f"role-{role if role in KNOWN_ROLES else 'other'}".replace("_", "-")


def risk_class(probability: float | None, warning: float, critical: float) -> str:
    """``risk-critical`` or ``risk-warning`` when the probability reaches the renewal_risk alert's levels."""
    if probability is None:
        return ""
    if probability >= critical:
        return "risk-critical"
    return "risk-warning" if probability >= warning else ""


def bar(value: float | None, *, maximum: float, css: str = "bar", width: int = 72) -> Markup:
    """``charts.bar`` for a template."""
    return chart(charts.bar(value, maximum=maximum, css=css, width=width))


def diverging_bar(value: float | None, *, maximum: float) -> Markup:
    """``charts.diverging_bar`` for a template."""
    return chart(charts.diverging_bar(value, maximum=maximum))


def environment() -> Environment:
    """Templates from ``templates/``, HTML-escaped always, an undefined name an error rather than blank."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(
        signed=signed,
        plain=plain,
        percent=percent,
        amount=amount,
        whole=whole,
        label=label,
        day=day,
        moment=moment,
        day_count=day_count,
    )
    env.globals.update(
        AlertStatus=AlertStatus,
        BASE=links.BASE,
        DASH=DASH,
        account_href=links.account_href,
        alert_href=links.alert_href,
        alerts_href=links.alerts_href,
        plan_href=links.plan_href,
        plan_moves={k: sorted(v) for k, v in MOVES.items()},
        plan_open=sorted(OPEN),
        accounts_href=links.accounts_href,
        backtest_href=links.backtest_href,
        days_to_renewal=days_to_renewal,
        role_class=role_class,
        risk_class=risk_class,
        bar=bar,
        diverging_bar=diverging_bar,
    )
    return env


ENV: Final = environment()


def render(name: str, /, **context: object) -> str:
    """The template ``name`` filled in with ``context``."""
    return ENV.get_template(name).render(context)
