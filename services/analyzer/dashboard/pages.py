"""The dashboard's pages: one view model each, rendered by its template under ``templates/``.

A page function takes its view model (plain data gathered by ``routes``), works out what a template
should not (orderings, the charts, the pager's links) and renders the page's template; Jinja2
escapes every value from the database. The charts are drawn in Python (``charts``) and handed in as
markup through ``templating.chart``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final

from markupsafe import Markup

from services.analyzer.accounts.repository import Portfolio
from services.analyzer.accounts.schemas import AccountSummary, AccountView, RiskFactorView, RiskView
from services.analyzer.backtest.schemas import BacktestView
from services.analyzer.dashboard import charts
from services.analyzer.dashboard.figures import label
from services.analyzer.dashboard.links import (
    DEFAULT_ORDER,
    LOOKBACKS,
    AccountOrder,
    account_href,
    accounts_href,
    alerts_href,
)
from services.analyzer.dashboard.templating import chart, render, role_class, whole
from services.analyzer.db.models import AlertRow, JourneyMomentRow
from services.analyzer.model.alerts import AlertStatus
from services.analyzer.model.history import Bucket, HistoryPoint
from services.analyzer.plans.schemas import PlanView
from services.analyzer.requests.reading import AccountCoverage, DecisionMakersHeard, RequestLine
from services.analyzer.verbatims.schemas import ThemesBySide
from services.analyzer.verbatims.summary import RoleVerbatims
from services.analyzer.verbatims.taxonomy import THEME_LABELS

__all__ = ["whole"]  # the tests read the page's money format from here

STATUSES: Final = tuple(AlertStatus)
QUOTES_SHOWN: Final = 3  # latest comments per role on the account page
REQUESTS_SHOWN: Final = 50  # latest survey requests on the account page


@dataclass(frozen=True)
class Pager:
    """Links to the previous and the next page of a list (None: there is none)."""

    previous: str | None
    next: str | None


def pager(offset: int, size: int, shown: int, href: Callable[[int], str]) -> Pager:
    """A previous link past the first page, a next link when this page is full."""
    return Pager(
        previous=href(max(0, offset - size)) if offset > 0 else None,
        next=href(offset + size) if shown == size else None,
    )


# -- login and messages ------------------------------------------------------------------------------------


def message_page(title: str, text: str, *, csrf: str | None) -> str:
    """An error or notice on its own page."""
    return render("message.html", title=title, text=text, csrf=csrf, active=None)


def login_page(*, token: str, next_path: str, error: str | None = None) -> str:
    """The sign-in form: one of the analyzer's API keys."""
    return render("login.html", title="Sign in", token=token, next_path=next_path, error=error, csrf=None, active=None)


# -- accounts ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountLine:
    """One account of the ranked list: its row of ``GET /v1/accounts``, and what only the dashboard shows."""

    summary: AccountSummary
    annual_value: float | None
    risks: frozenset[str] = frozenset()  # the risk alert types it has open
    deciders: DecisionMakersHeard | None = None  # its decision makers heard recently, of all


@dataclass(frozen=True)
class AccountsData:
    """The accounts page: totals, one page of ranked accounts, paging, and the order."""

    portfolio: Portfolio
    open_alerts: int
    rows: Sequence[AccountLine]
    today: date
    offset: int
    page_size: int
    segment: str | None = None
    order: AccountOrder = DEFAULT_ORDER
    # The renewal_risk alert's levels (THRESHOLDS__RISK_WARNING, __RISK_CRITICAL), to colour the risk.
    risk_warning: float = 0.44
    risk_critical: float = 0.6


ORDER_TITLES: Final[dict[str, tuple[str, str]]] = {
    "divergence": (
        "Accounts by divergence",
        "Widest gap between two client roles first. The account mean and NPS are the single scores a CX report"
        " shows; divergence is what they average away.",
    ),
    "risk": (
        "Accounts by renewal risk",
        "Highest probability that the next renewal is churned or downsized first (accounts not yet evaluated"
        " last); open an account for the factors behind it.",
    ),
    "value_at_risk": (
        "Accounts by value at risk",
        "Largest renewal risk \N{MULTIPLICATION SIGN} annual value first: what the portfolio stands to lose,"
        " account by account (accounts without a risk or an annual value last).",
    ),
}
RISK_BADGES: Final = {
    "stakeholder_divergence": "divergence",
    "divergence_widening": "widening",
    "masked_by_average": "masked",
    "renewal_risk": "renewal",
}


def accounts_page(data: AccountsData, *, csrf: str) -> str:
    """Headline value at risk, then accounts ranked by divergence, renewal risk or value at risk."""
    title, note = ORDER_TITLES[data.order]
    return render(
        "accounts.html",
        title="Accounts",
        csrf=csrf,
        active="accounts",
        data=data,
        heading=title,
        note=note,
        badges=RISK_BADGES,
        pager=pager(
            data.offset,
            data.page_size,
            len(data.rows),
            lambda offset: accounts_href(order=data.order, segment=data.segment, offset=offset),
        ),
    )


# -- one account -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionRow:
    """Client and supplier positions on one dimension (``all``: every answer), and their reading."""

    dimension: str
    client: float | None
    supplier: float | None
    perception: str | None  # blind_spot, undervalued_advantage, ... when both sides are confident enough

    @property
    def gap(self) -> float | None:
        """Supplier minus client: positive when the supplier thinks better of itself."""
        return None if self.client is None or self.supplier is None else self.supplier - self.client


@dataclass(frozen=True)
class AccountData:
    """One account: the JSON API's view, its history with NPS, moments, alerts and perception rows."""

    view: AccountView
    history: Sequence[HistoryPoint]
    nps: Sequence[float | None]
    bucket: Bucket
    moments: Sequence[JourneyMomentRow]
    alerts: Sequence[AlertRow]
    dimensions: Sequence[DimensionRow]
    today: date
    roles_in_history: Sequence[str] = field(default_factory=tuple)
    # Each alert's action plans, oldest first (templates/_plan.html).
    plans: Mapping[str, Sequence[PlanView]] = field(default_factory=dict)
    risk_warning: float = 0.44
    risk_critical: float = 0.6
    # What each role says (the latest QUOTES_SHOWN quotes each), as GET /v1/accounts/{id}/verbatims reads it.
    verbatims: Sequence[RoleVerbatims] = field(default_factory=tuple)
    # themes_by_side of the open split alerts, by alert id.
    alert_themes: Mapping[str, ThemesBySide] = field(default_factory=dict)
    coverage: AccountCoverage | None = None


@dataclass(frozen=True)
class TimelineEntry:
    """A journey moment or an alert opening, in the account's timeline."""

    at: datetime
    moment: JourneyMomentRow | None = None
    alert: AlertRow | None = None


@dataclass(frozen=True)
class FactorRow:
    """One factor of the renewal risk as the panel lists it."""

    factor: RiskFactorView
    reason: bool  # among the factors that raise the risk most

    @property
    def shown_contribution(self) -> float:
        """The contribution, a negligible one shown as zero."""
        return self.factor.contribution if abs(self.factor.contribution) >= 0.005 else 0.0

    @property
    def css(self) -> str:
        """``reason``, ``nil`` (negligible) or nothing."""
        return "reason" if self.reason else ("nil" if abs(self.factor.contribution) < 0.005 else "")


def factor_rows(risk: RiskView) -> list[FactorRow]:
    """The reasons first (largest first), then the rest by contribution, the ones that raise the risk before the
    ones that lower it."""
    factors = {f.name: f for f in risk.factors}
    reasons = [name for name in risk.reasons if name in factors]
    rest = sorted((f for f in risk.factors if f.name not in reasons), key=lambda f: (-f.contribution, f.name))
    return [FactorRow(factors[name], True) for name in reasons] + [FactorRow(f, False) for f in rest]


def timeline(data: AccountData) -> list[TimelineEntry]:
    """Journey moments and alert openings, oldest first."""
    entries = [TimelineEntry(m.occurred_at, moment=m) for m in data.moments]
    entries += [TimelineEntry(a.opened_as_of, alert=a) for a in data.alerts]
    return sorted(entries, key=lambda e: e.at)


def finite(value: float | None) -> float | None:
    """The value, or None for an infinite or undefined one."""
    return value if value is not None and math.isfinite(value) else None


def _markers(data: AccountData) -> list[charts.Marker]:
    markers = [
        charts.Marker(
            m.occurred_at.date(), label(m.moment) + (f" ({m.stakeholder_id})" if m.stakeholder_id else ""), "moment"
        )
        for m in data.moments
    ]
    markers += [
        charts.Marker(a.opened_as_of.date(), f"{label(a.type)} alert opened ({a.severity})", "alert")
        for a in data.alerts
    ]
    return markers


def history_charts(data: AccountData) -> tuple[Markup, Markup] | None:
    """The positions chart (a line per client role and the account mean) and the NPS chart; None without
    history."""
    if not data.history:
        return None
    days = [p.as_of.date() for p in data.history]
    start, end = days[0], days[-1]
    series = [
        charts.Series(
            label(role),
            role_class(role),
            tuple(
                (d, next((r.position for r in p.roles if r.role == role), None))
                for d, p in zip(days, data.history, strict=True)
            ),
        )
        for role in data.roles_in_history
    ]
    series.append(
        charts.Series(
            "Account mean",
            "mean",
            tuple((d, p.account_mean) for d, p in zip(days, data.history, strict=True)),
            dots=False,
        )
    )
    markers = _markers(data)
    positions = charts.time_chart(
        series,
        start=start,
        end=end,
        y_domain=(-1.0, 1.0),
        y_ticks=(-1.0, -0.5, 0.0, 0.5, 1.0),
        y_format=lambda v: f"{v:+.1f}" if v else "0",
        label="Position of each client role over time, with the account mean",
        markers=markers,
        height=300,
    )
    nps = charts.time_chart(
        [charts.Series("NPS", "nps", tuple(zip(days, data.nps, strict=True)))],
        start=start,
        end=end,
        y_domain=(-100.0, 100.0),
        y_ticks=(-100.0, -50.0, 0.0, 50.0, 100.0),
        y_format=lambda v: f"{v:+.0f}" if v else "0",
        label="Classic account NPS over time",
        markers=markers,
        height=150,
    )
    return chart(positions), chart(nps)


def account_page(data: AccountData, *, csrf: str) -> str:
    """One account: figures, renewal risk, positions over time, timeline, stakeholders and perception gap."""
    v = data.view
    gap_chart = (
        chart(
            charts.gap_chart(
                [charts.GapRow(label(r.dimension), r.client, r.supplier) for r in data.dimensions],
                label="Client and supplier positions per dimension",
                width=540,
            )
        )
        if data.dimensions
        else None
    )
    factors = factor_rows(v.risk) if v.risk is not None else []
    requests: Sequence[RequestLine] = data.coverage.requests if data.coverage is not None else ()
    return render(
        "account.html",
        title=v.name or v.account_id,
        csrf=csrf,
        return_to=account_href(v.account_id),
        active="accounts",
        data=data,
        v=v,
        charts=history_charts(data),
        gap_chart=gap_chart,
        factors=factors,
        largest=max((abs(f.factor.contribution) for f in factors), default=0.0),
        stakeholders=sorted(v.stakeholders, key=lambda s: (s.side, s.role, s.stakeholder_id)),
        timeline=timeline(data),
        finite=finite,
        theme_labels=THEME_LABELS,
        quotes_shown=QUOTES_SHOWN,
        requests_shown=requests[:REQUESTS_SHOWN],
        requests_total=len(requests),
        names={s.stakeholder_id: s.name for s in v.stakeholders if s.name},
    )


# -- alerts ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertsData:
    """One page of alerts with its filters, and what just happened (after a form)."""

    alerts: Sequence[AlertRow]
    status: str | None
    account_id: str | None
    offset: int
    page_size: int
    notice: str | None = None
    error: str | None = None
    # Each alert's action plans, oldest first (templates/_plan.html).
    plans: Mapping[str, Sequence[PlanView]] = field(default_factory=dict)
    # themes_by_side of the open split alerts shown, by alert id.
    themes: Mapping[str, ThemesBySide] = field(default_factory=dict)


def alerts_page(data: AlertsData, *, csrf: str, return_to: str) -> str:
    """The alert list, newest first, with acknowledge and resolve."""
    return render(
        "alerts.html",
        title="Alerts",
        csrf=csrf,
        active="alerts",
        data=data,
        return_to=return_to,
        statuses=(*STATUSES, None),
        pager=pager(
            data.offset,
            data.page_size,
            len(data.alerts),
            lambda offset: alerts_href(status=data.status, account_id=data.account_id, offset=offset),
        ),
    )


# -- backtest ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestData:
    """The backtest of ``GET /v1/backtest`` over one lookback window."""

    result: BacktestView
    lookback_days: int


KINDS: Final = {"risk_alert": "risk alert", "divergence_alert": "divergence alert", "classic": "classic NPS"}


def backtest_page(data: BacktestData, *, csrf: str) -> str:
    """Each rule's precision, recall and lead time over the renewals with an outcome, the recommended
    rule highlighted, on a precision-recall chart, and the calibration of the renewal risk."""
    r = data.result
    base_rate = r.bad_outcomes / r.renewals if r.renewals else None
    pr_chart = None
    if r.renewals and r.bad_outcomes:
        pr_chart = chart(
            charts.precision_recall_chart(
                [
                    charts.RulePoint(rule.rule, rule.precision, rule.recall, rule.rule == r.recommended)
                    for rule in r.rules
                ],
                base_rate=base_rate,
                label="Precision against recall, one dot per rule",
            )
        )
    return render(
        "backtest.html",
        title="Backtest",
        csrf=csrf,
        active="backtest",
        data=data,
        r=r,
        base_rate=base_rate,
        best=next((rule for rule in r.rules if rule.rule == r.recommended), None),
        outcomes=", ".join(f"{n} {outcome}" for outcome, n in r.outcomes.items()) or "none",
        lookbacks=sorted({*LOOKBACKS, data.lookback_days}),
        pr_chart=pr_chart,
        unplaced=[rule.rule for rule in r.rules if rule.precision is None or rule.recall is None],
        kinds=KINDS,
    )
