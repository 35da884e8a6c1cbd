"""The dashboard's pages as HTML: the layout, login, accounts, one account, alerts, the backtest, and errors.

Each page is a function of plain data (gathered by ``routes``) to ``Markup``; every value from the
database goes through ``render``, which escapes it. Links carry URL-quoted ids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final, Literal
from urllib.parse import quote, urlencode

from services.analyzer.api.backtest import BacktestView, CalibrationView
from services.analyzer.dashboard import charts
from services.analyzer.dashboard.figures import (
    DASH,
    amount,
    day_count,
    days_to_renewal,
    label,
    percent,
    plain,
    signed,
)
from services.analyzer.dashboard.markup import Markup, join, render
from services.analyzer.dashboard.queries import Portfolio
from services.analyzer.db.models import AlertRow, JourneyMomentRow
from services.analyzer.model.history import Bucket, HistoryPoint
from services.analyzer.schemas import AccountView, RiskView, StakeholderView

BASE = "/dashboard"
KNOWN_ROLES = frozenset(
    {"procurement", "it", "finance", "end_user", "executive_sponsor", "champion", "legal", "other", "unassigned"}
)
STATUSES = ("open", "acknowledged", "resolved")


def account_href(account_id: str, **query: str) -> str:
    """The dashboard page of an account."""
    path = f"{BASE}/accounts/{quote(account_id, safe='')}"
    return f"{path}?{urlencode(query)}" if query else path


def alerts_href(**query: str | int | None) -> str:
    """The alerts page with the given filters."""
    kept = {k: str(v) for k, v in query.items() if v not in (None, "")}
    return f"{BASE}/alerts?{urlencode(kept)}" if kept else f"{BASE}/alerts"


# The orders of GET /v1/accounts the accounts page offers (a column header each).
AccountOrder = Literal["divergence", "risk", "value_at_risk"]
DEFAULT_ORDER: Final[AccountOrder] = "divergence"
LOOKBACKS: Final = (90, 180, 365)  # the lookback windows the backtest page offers
DEFAULT_LOOKBACK: Final = 180  # GET /v1/backtest's default


def accounts_href(*, order: str = DEFAULT_ORDER, segment: str | None = None, offset: int | None = None) -> str:
    """The accounts page in an order, for a segment, from an offset (each left out at its default)."""
    kept: dict[str, str] = {}
    if order != DEFAULT_ORDER:
        kept["order"] = order
    if segment:
        kept["segment"] = segment
    if offset:
        kept["offset"] = str(offset)
    return f"{BASE}?{urlencode(kept)}" if kept else BASE


def backtest_href(lookback_days: int = DEFAULT_LOOKBACK) -> str:
    """The backtest page over a lookback window."""
    path = f"{BASE}/backtest"
    return path if lookback_days == DEFAULT_LOOKBACK else f"{path}?{urlencode({'lookback_days': lookback_days})}"


def risk_class(probability: float | None, warning: float, critical: float) -> str:
    """``risk-critical`` or ``risk-warning`` when the probability reaches the renewal_risk alert's levels."""
    if probability is None:
        return ""
    if probability >= critical:
        return "risk-critical"
    return "risk-warning" if probability >= warning else ""


def whole(value: float | None) -> str:
    """A money figure rounded to whole units (a risk-weighted value has no meaningful cents)."""
    return amount(None if value is None else round(value))


def role_class(role: str) -> str:
    """The CSS class that colours a role the same on every chart and legend."""
    return f"role-{role if role in KNOWN_ROLES else 'other'}".replace("_", "-")


def _date(value: date | datetime | None) -> str:
    if value is None:
        return DASH
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def _datetime(value: datetime | None) -> str:
    return DASH if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _csrf_field(csrf: str) -> Markup:
    return render('<input type="hidden" name="csrf" value="{csrf}">', csrf=csrf)


# -- layout -----------------------------------------------------------------------------------------


def layout(title: str, body: Markup, *, csrf: str | None, active: str | None = None) -> Markup:
    """A whole page: head, top bar (when signed in), main content."""
    if csrf is None:
        header = Markup("")
    else:
        links = join(
            render(
                '<a href="{href}" class="{cls}">{text}</a>', href=href, cls="active" if key == active else "", text=text
            )
            for key, href, text in (
                ("accounts", BASE, "Accounts"),
                ("alerts", alerts_href(status="open"), "Alerts"),
                ("backtest", backtest_href(), "Backtest"),
            )
        )
        header = render(
            '<header class="topbar"><a class="brand" href="{base}"><img src="{base}/static/favicon.svg" alt=""'
            ' width="22" height="22">Stakeholder divergence</a><nav>{links}</nav>'
            '<form method="post" action="{base}/logout" class="logout">{csrf}<button type="submit" class="ghost"'
            ' id="logout">Sign out</button></form></header>',
            base=BASE,
            links=links,
            csrf=_csrf_field(csrf),
        )
    return render(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{title} · Stakeholder divergence</title>"
        '<link rel="stylesheet" href="{base}/static/dashboard.css">'
        '<link rel="icon" href="{base}/static/favicon.svg" type="image/svg+xml">'
        "</head><body>{header}<main>{body}</main></body></html>",
        title=title,
        base=BASE,
        header=header,
        body=body,
    )


def message_page(title: str, text: str, *, csrf: str | None) -> Markup:
    """An error or notice on its own page."""
    body = render(
        '<section class="card narrow"><h1>{title}</h1><p id="message">{text}</p>'
        '<p><a href="{base}">Back to the accounts</a></p></section>',
        title=title,
        text=text,
        base=BASE,
    )
    return layout(title, body, csrf=csrf)


def login_page(*, token: str, next_path: str, error: str | None = None) -> Markup:
    """The sign-in form: one of the analyzer's API keys."""
    problem = render('<p class="error" id="login-error" role="alert">{text}</p>', text=error) if error else Markup("")
    body = render(
        '<section class="login card"><img src="{base}/static/favicon.svg" alt="" width="40" height="40">'
        "<h1>Stakeholder divergence</h1>"
        '<p class="muted">Sign in with one of the analyzer\'s API keys.</p>{problem}'
        '<form method="post" action="{base}/login">'
        '<input type="hidden" name="csrf" value="{token}"><input type="hidden" name="next" value="{next}">'
        '<label for="key">API key</label>'
        '<input type="password" id="key" name="key" autocomplete="off" required autofocus maxlength="512">'
        '<button type="submit" id="sign-in">Sign in</button></form></section>',
        base=BASE,
        problem=problem,
        token=token,
        next=next_path,
    )
    return layout("Sign in", body, csrf=None)


# -- accounts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    """One account of the ranked list, with its figures as the JSON API lists them."""

    account_id: str
    name: str | None
    segment: str | None
    renewal_date: date | None
    annual_value: float | None
    account_mean: float | None
    divergence: float | None
    nps: float | None
    open_alerts: int
    risks: frozenset[str] = frozenset()
    risk: float | None = None  # renewal-risk probability, as GET /v1/accounts lists it
    value_at_risk: float | None = None  # risk x annual value


@dataclass(frozen=True)
class AccountsData:
    """The accounts page: totals, one page of ranked accounts, paging, and the order."""

    portfolio: Portfolio
    open_alerts: int
    rows: Sequence[AccountRow]
    today: date
    offset: int
    page_size: int
    segment: str | None = None
    order: AccountOrder = DEFAULT_ORDER
    # The renewal_risk alert's levels (THRESHOLDS__RISK_WARNING, __RISK_CRITICAL), to colour the risk.
    risk_warning: float = 0.44
    risk_critical: float = 0.6


_ORDER_TITLES: Final[dict[str, tuple[str, str]]] = {
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


def _risk_badges(risks: frozenset[str]) -> Markup:
    names = {
        "stakeholder_divergence": "divergence",
        "divergence_widening": "widening",
        "masked_by_average": "masked",
        "renewal_risk": "renewal",
    }
    return join(
        render('<span class="badge badge-risk" title="{type}">{text}</span>', type=t, text=names.get(t, t))
        for t in sorted(risks)
    )


def accounts_page(data: AccountsData, *, csrf: str) -> Markup:
    """Headline value at risk, then accounts ranked by divergence, renewal risk or value at risk."""
    p = data.portfolio
    at_risk_note = f"{p.at_risk_accounts} of {p.accounts} accounts have an open divergence or renewal alert"
    if p.at_risk_without_value:
        at_risk_note += f" ({p.at_risk_without_value} without an annual value)"
    kpis = render(
        '<section class="kpis">'
        '<div class="kpi kpi-risk"><div class="kpi-label">Value at risk</div>'
        '<div class="kpi-value" id="value-at-risk">{var}</div>'
        '<div class="kpi-note" id="at-risk-note">{note}</div></div>'
        '<div class="kpi"><div class="kpi-label">Annual value</div>'
        '<div class="kpi-value" id="total-value">{total}</div>'
        '<div class="kpi-note">over <span id="account-count">{count}</span> accounts</div></div>'
        '<div class="kpi"><div class="kpi-label">Open alerts</div><div class="kpi-value" id="open-alert-count">{alerts}'
        '</div><div class="kpi-note"><a href="{alerts_href}">Review the alerts</a></div></div>'
        "</section>",
        var=amount(p.value_at_risk),
        note=at_risk_note,
        total=amount(p.total_value),
        count=p.accounts,
        alerts=data.open_alerts,
        alerts_href=alerts_href(status="open"),
    )
    rows = []
    for rank, row in enumerate(data.rows, start=data.offset + 1):
        days = days_to_renewal(row.renewal_date, data.today)
        soon = days is not None and 0 <= days <= 120
        rows.append(
            render(
                '<tr data-account="{id}" class="{cls}"><td class="rank">{rank}</td>'
                '<td><a href="{href}" class="account-link">{name}</a><div class="sub">{id}</div></td>'
                '<td data-field="segment">{segment}</td>'
                '<td data-field="renewal_date" class="date">{renewal}</td>'
                '<td data-field="days_to_renewal" class="{days_cls}">{days}</td>'
                '<td data-field="annual_value" class="num">{value}</td>'
                '<td data-field="risk" class="num risk {risk_cls}">{risk}</td>'
                '<td data-field="value_at_risk" class="num">{var}</td>'
                '<td data-field="account_mean" class="num">{mean}</td>'
                '<td data-field="nps" class="num">{nps}</td>'
                '<td class="divergence"><span data-field="divergence" class="num">{divergence}</span>{bar}</td>'
                '<td><span data-field="open_alerts" class="count">{open}</span> {badges}</td></tr>',
                id=row.account_id,
                cls="at-risk" if row.risks else "",
                rank=rank,
                href=account_href(row.account_id),
                name=row.name or row.account_id,
                segment=row.segment or DASH,
                renewal=_date(row.renewal_date),
                days_cls="soon" if soon else "",
                days=DASH if days is None else str(days),
                value=amount(row.annual_value),
                risk_cls=risk_class(row.risk, data.risk_warning, data.risk_critical),
                risk=percent(row.risk),
                var=whole(row.value_at_risk),
                mean=signed(row.account_mean),
                nps=signed(row.nps, 0),
                divergence=plain(row.divergence),
                bar=charts.bar(
                    row.divergence, maximum=2.0, css="divergence" if (row.divergence or 0) < 0.5 else "wide"
                ),
                open=row.open_alerts,
                badges=_risk_badges(row.risks),
            )
        )
    empty = '<tr><td colspan="12" class="empty">No accounts yet: send account and survey events to ingest.</td></tr>'
    pager = _pager(
        data.offset,
        data.page_size,
        len(data.rows),
        lambda offset: accounts_href(order=data.order, segment=data.segment, offset=offset),
    )
    title, note = _ORDER_TITLES[data.order]

    def sortable(order: AccountOrder, text: str, hint: str, cls: str = "") -> Markup:
        active = order == data.order
        return render(
            '<th class="{cls}" title="{hint}"{sort}>'
            '<a href="{href}" id="sort-{order}" class="sort{on}">{text}{arrow}</a></th>',
            cls=cls,
            hint=hint,
            sort=Markup(' aria-sort="descending"') if active else Markup(""),
            href=accounts_href(order=order, segment=data.segment),
            order=order,
            on=" active" if active else "",
            text=text,
            arrow=" \N{DOWNWARDS ARROW}" if active else "",
        )

    table = render(
        '<section class="card"><div class="card-head"><h2 id="accounts-title">{title}</h2>'
        '<p class="muted">{note}</p></div>'
        '<table class="table" id="accounts"><thead><tr><th>#</th><th>Account</th><th>Segment</th><th>Renewal</th>'
        '<th title="Days from today to the renewal date">Days</th><th class="num">Annual value</th>'
        "{risk_th}{var_th}"
        '<th class="num">Mean</th><th class="num">NPS</th>{divergence_th}<th>Open alerts</th></tr></thead>'
        "<tbody>{rows}</tbody></table>{pager}</section>",
        title=title,
        note=note,
        risk_th=sortable("risk", "Risk", "Probability that the next renewal is churned or downsized", "num"),
        var_th=sortable("value_at_risk", "Value at risk", "Renewal risk \N{MULTIPLICATION SIGN} annual value", "num"),
        divergence_th=sortable("divergence", "Divergence", "Widest gap between two confident client roles"),
        rows=join(rows) if rows else Markup(empty),
        pager=pager,
    )
    return layout("Accounts", join([kpis, table]), csrf=csrf, active="accounts")


def _pager(offset: int, size: int, shown: int, href: Any) -> Markup:
    links = []
    if offset > 0:
        links.append(render('<a href="{href}" rel="prev">Previous</a>', href=href(max(0, offset - size))))
    if shown == size:
        links.append(render('<a href="{href}" rel="next">Next</a>', href=href(offset + size)))
    return render('<nav class="pager">{links}</nav>', links=join(links)) if links else Markup("")


# -- one account ----------------------------------------------------------------------------------------


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
    risk_warning: float = 0.44
    risk_critical: float = 0.6


def _kpi(title: str, value: str, note: Markup | str, ident: str, cls: str = "") -> Markup:
    return render(
        '<div class="kpi {cls}"><div class="kpi-label">{title}</div><div class="kpi-value" id="{id}">{value}</div>'
        '<div class="kpi-note">{note}</div></div>',
        cls=cls,
        title=title,
        id=ident,
        value=value,
        note=note,
    )


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


def _charts(data: AccountData) -> Markup:
    if not data.history:
        return Markup('<p class="empty">No answers yet: the chart appears with the first survey answer.</p>')
    days = [p.as_of.date() for p in data.history]
    start, end = days[0], days[-1]
    roles = data.roles_in_history
    series = [
        charts.Series(
            label(role),
            role_class(role),
            tuple(
                (d, next((r.position for r in p.roles if r.role == role), None))
                for d, p in zip(days, data.history, strict=True)
            ),
        )
        for role in roles
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
    legend = join(
        render(
            '<span class="legend-item"><span class="swatch {cls}"></span>{text}</span>',
            cls=role_class(r),
            text=label(r),
        )
        for r in roles
    )
    legend = join(
        [
            legend,
            Markup('<span class="legend-item"><span class="swatch mean"></span>Account mean</span>'),
            Markup('<span class="legend-item"><span class="swatch moment"></span>Journey moment</span>'),
            Markup('<span class="legend-item"><span class="swatch alert"></span>Alert opened</span>'),
        ]
    )
    buckets = join(
        render(
            '<a href="{href}" class="{cls}">{text}</a>',
            href=account_href(data.view.account_id, bucket=b),
            cls="active" if b == data.bucket else "",
            text=b,
        )
        for b in ("day", "week", "month")
    )
    return render(
        '<div class="legend" id="legend">{legend}</div><div class="chart-wrap" id="positions-chart">{positions}</div>'
        '<h3 class="chart-title">NPS, the single score beside them</h3>'
        '<div class="chart-wrap" id="nps-chart">{nps}</div>'
        '<div class="bucket-switch">Per {buckets}</div>',
        legend=legend,
        positions=positions,
        nps=nps,
        buckets=buckets,
    )


def _timeline(data: AccountData) -> Markup:
    entries: list[tuple[datetime, Markup]] = []
    for m in data.moments:
        entries.append(
            (
                m.occurred_at,
                render(
                    '<tr class="timeline-moment"><td class="date">{day}</td>'
                    '<td><span class="dot moment"></span>Journey moment</td>'
                    "<td>{what}</td><td>{who}</td></tr>",
                    day=_date(m.occurred_at),
                    what=label(m.moment),
                    who=m.stakeholder_id or DASH,
                ),
            )
        )
    for a in data.alerts:
        entries.append(
            (
                a.opened_as_of,
                render(
                    '<tr class="timeline-alert" data-alert="{id}"><td class="date">{day}</td>'
                    '<td><span class="dot alert"></span>Alert opened</td>'
                    '<td><span class="badge sev-{sev}">{sev}</span> {type}</td><td>{status}</td></tr>',
                    id=a.alert_id,
                    day=_date(a.opened_as_of),
                    sev=a.severity,
                    type=label(a.type),
                    status=a.status,
                ),
            )
        )
    if not entries:
        return Markup('<p class="empty">No journey moments or alerts yet.</p>')
    entries.sort(key=lambda e: e[0])
    return render(
        '<table class="table compact" id="timeline"><thead><tr><th>Date</th><th>What</th><th>Detail</th><th></th>'
        "</tr></thead><tbody>{rows}</tbody></table>",
        rows=join(row for _, row in entries),
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _position(person: StakeholderView) -> Markup:
    se = _finite(person.se)
    spread = (
        render('<span class="se" data-field="se" title="standard error">\N{PLUS-MINUS SIGN} {se}</span>', se=plain(se))
        if se is not None and person.position is not None
        else Markup("")
    )
    return render(
        '<span data-field="position">{position}</span>{spread}', position=signed(person.position), spread=spread
    )


def _stakeholders(view: AccountView) -> Markup:
    rows = [
        render(
            '<tr data-stakeholder="{id}" class="{row_cls}"><td><span class="swatch {cls}"></span>{name}{decides}'
            '<div class="sub">{id}</div></td>'
            '<td>{role}</td><td>{side}</td><td class="num position">{position}</td>'
            '<td class="num" data-field="confidence">{confidence}</td><td class="num">{answers}</td>'
            '<td data-field="last_response_at" class="date">{last}</td></tr>',
            id=s.stakeholder_id,
            row_cls="decision-maker" if s.decision_maker else "",
            cls=role_class(s.role) if s.side == "client" else "supplier",
            name=s.name or s.stakeholder_id,
            decides=Markup(' <span class="badge badge-decides" title="Decides the renewal">decides</span>')
            if s.decision_maker
            else Markup(""),
            role=label(s.role),
            side=s.side,
            position=_position(s),
            confidence=plain(s.confidence),
            answers=s.responses,
            last=_date(s.last_response_at),
        )
        for s in sorted(view.stakeholders, key=lambda s: (s.side, s.role, s.stakeholder_id))
    ]
    if not rows:
        return Markup('<p class="empty">No stakeholders known yet.</p>')
    return render(
        '<table class="table compact" id="stakeholders"><thead><tr><th>Stakeholder</th><th>Role</th><th>Side</th>'
        '<th class="num" title="Position on -1 … +1, \N{PLUS-MINUS SIGN} its standard error">Position</th>'
        '<th class="num">Confidence</th><th class="num">Answers</th><th>Last answer</th>'
        "</tr></thead><tbody>{rows}</tbody></table>",
        rows=join(rows),
    )


def _factor_rows(risk: RiskView) -> list[tuple[str, float, float, bool]]:
    """``(name, value, contribution, is a reason)``: the reasons first (largest first), then the rest by
    contribution, the ones that raise the risk before the ones that lower it."""
    factors = {f.name: f for f in risk.factors}
    reasons = [name for name in risk.reasons if name in factors]
    rest = sorted((f for f in risk.factors if f.name not in reasons), key=lambda f: (-f.contribution, f.name))
    ordered = [factors[name] for name in reasons] + rest
    return [(f.name, f.value, f.contribution, f.name in reasons) for f in ordered]


def _risk_panel(data: AccountData) -> Markup:
    risk = data.view.risk
    if risk is None:
        return Markup(
            '<section class="card" id="risk-panel"><h2>Renewal risk</h2><p class="empty">No renewal risk for this'
            " account now: the account view has none (a figure of the model was not finite).</p></section>"
        )
    rows = _factor_rows(risk)
    largest = max((abs(c) for _, _, c, _ in rows), default=0.0)
    table = render(
        '<table class="table compact" id="risk-factors"><thead><tr><th>Factor</th><th class="num">Value</th>'
        '<th class="num" title="Coefficient \N{MULTIPLICATION SIGN} (value \N{MINUS SIGN} a healthy account\'s'
        ' value): positive raises the risk">'
        "Contribution (log-odds)</th><th></th></tr></thead><tbody>{rows}</tbody></table>",
        rows=join(
            render(
                '<tr data-factor="{name}" class="{cls}"><td title="{name}">{text}{badge}</td>'
                '<td class="num" data-field="value">{value}</td>'
                '<td class="num" data-field="contribution">{contribution}</td><td>{bar}</td></tr>',
                name=name,
                cls="reason" if reason else ("nil" if abs(contribution) < 0.005 else ""),
                text=label(name),
                badge=Markup(' <span class="badge badge-risk">raises</span>') if reason else Markup(""),
                value=f"{value:.2f}",
                contribution=signed(contribution if abs(contribution) >= 0.005 else 0.0),
                bar=charts.diverging_bar(contribution, maximum=largest),
            )
            for name, value, contribution, reason in rows
        ),
    )
    lowest = label(risk.lowest_decision_role) if risk.lowest_decision_role else "no decision maker has answered"
    return render(
        '<section class="card risk-panel" id="risk-panel"><div class="risk-summary"><h2>Renewal risk</h2>'
        '<div class="risk-probability {cls}" id="risk-probability">{probability}</div>'
        '<p class="muted">probability that the next renewal is churned or downsized</p>'
        '<dl class="facts stacked"><dt>Model version</dt><dd id="risk-model">{model}</dd>'
        "<dt>Lowest decision maker</dt><dd>{lowest}</dd>"
        "<dt>renewal_risk alert</dt><dd>from {warning} (critical from {critical})</dd></dl></div>"
        '<div class="risk-factors"><p class="muted">Each factor\'s value and how far it moves the risk from a'
        " healthy account's, in log-odds; the reasons (the factors that raise it most) first.</p>{table}</div>"
        "</section>",
        cls=risk_class(risk.probability, data.risk_warning, data.risk_critical),
        probability=percent(risk.probability),
        model=risk.model_version,
        lowest=lowest,
        warning=percent(data.risk_warning),
        critical=percent(data.risk_critical),
        table=table,
    )


def _perception(rows: Sequence[DimensionRow]) -> Markup:
    if not rows:
        return Markup(
            '<p class="empty">No dimension has answers from both sides yet: the supplier\'s own team answers'
            " (side <code>supplier</code>) are its self-assessment.</p>"
        )
    chart = charts.gap_chart(
        [charts.GapRow(label(r.dimension), r.client, r.supplier) for r in rows],
        label="Client and supplier positions per dimension",
        width=540,
    )
    table = render(
        '<table class="table compact" id="perception"><thead><tr><th>Dimension</th><th class="num">Client</th>'
        '<th class="num">Supplier</th><th class="num">Gap</th><th>Reading</th></tr></thead>'
        "<tbody>{rows}</tbody></table>",
        rows=join(
            render(
                '<tr data-dimension="{dim}"><td>{name}</td><td class="num">{client}</td><td class="num">{supplier}</td>'
                '<td class="num" data-field="gap">{gap}</td><td>{reading}</td></tr>',
                dim=r.dimension,
                name=label(r.dimension),
                client=signed(r.client),
                supplier=signed(r.supplier),
                gap=signed(r.gap),
                reading=label(r.perception) if r.perception else "not enough answers",
            )
            for r in rows
        ),
    )
    return render(
        '<div class="legend"><span class="legend-item"><span class="swatch client"></span>Client side</span>'
        '<span class="legend-item"><span class="swatch supplier"></span>Supplier (self-assessment)</span></div>'
        '<div class="chart-wrap">{chart}</div>{table}',
        chart=chart,
        table=table,
    )


def account_page(data: AccountData, *, csrf: str) -> Markup:
    """One account: figures, renewal risk, positions over time, timeline, stakeholders and perception gap."""
    v = data.view
    days = days_to_renewal(v.renewal_date, data.today)
    gap_note: Markup | str = (
        render("{high} vs {low}", high=label(v.widest_gap.high_role), low=label(v.widest_gap.low_role))
        if v.widest_gap
        else "needs two confident client roles"
    )
    kpis = join(
        [
            _kpi(
                "Divergence",
                plain(v.divergence),
                gap_note,
                "divergence",
                "kpi-risk" if (v.divergence or 0) >= 0.5 else "",
            ),
            _kpi("Account mean", signed(v.account_mean), "the average a single score reports", "account-mean"),
            _kpi("NPS", signed(v.nps, 0), "classic, latest answer per person", "nps"),
            _kpi("Renewal", _date(v.renewal_date), day_count(days), "renewal-date"),
            _kpi("Annual value", amount(v.annual_value), v.segment or "no segment", "annual-value"),
            _kpi(
                "Open alerts",
                str(v.open_alerts),
                render('<a href="{href}">See them</a>', href=alerts_href(account_id=v.account_id)),
                "open-alerts",
            ),
        ]
    )
    body = render(
        '<nav class="crumbs"><a href="{base}">Accounts</a> / {id}</nav>'
        '<header class="page-head"><h1 id="account-name">{name}</h1><span class="sub">{id}</span>{segment}</header>'
        '<section class="kpis six">{kpis}</section>{risk}'
        '<section class="card"><div class="card-head"><h2>Positions over time</h2><p class="muted">Each client role\'s'
        " position on -1 … +1 at the end of every {bucket}, recomputed from the answers held, with the account mean."
        " Markers on the time axis: journey moments (dots) and alert openings (triangles).</p></div>{charts}</section>"
        '<section class="grid2"><div class="card"><h2>Stakeholders</h2>{stakeholders}</div>'
        '<div class="card"><h2>Perception gap by dimension</h2>{perception}</div></section>'
        '<section class="card"><h2>Timeline</h2>{timeline}</section>',
        base=BASE,
        id=v.account_id,
        name=v.name or v.account_id,
        segment=render('<span class="chip">{s}</span>', s=v.segment) if v.segment else Markup(""),
        kpis=kpis,
        risk=_risk_panel(data),
        bucket=data.bucket,
        charts=_charts(data),
        stakeholders=_stakeholders(v),
        perception=_perception(data.dimensions),
        timeline=_timeline(data),
    )
    return layout(v.name or v.account_id, body, csrf=csrf, active="accounts")


# -- alerts --------------------------------------------------------------------------------------------


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


def _alert_state(a: AlertRow) -> Markup:
    parts = [render('<span class="status status-{s}" data-field="status">{s}</span>', s=a.status)]
    if a.acknowledged_at is not None:
        parts.append(
            render(
                '<div class="sub">acknowledged by {by} · {at}</div>',
                by=a.acknowledged_by or DASH,
                at=_datetime(a.acknowledged_at),
            )
        )
    if a.resolved_at is not None:
        parts.append(
            render(
                '<div class="sub">resolved by {by} · {at}</div>',
                by=a.resolved_by or "its condition",
                at=_datetime(a.resolved_at),
            )
        )
    if a.note:
        parts.append(render('<div class="note">“{note}”</div>', note=a.note))
    return join(parts)


def _alert_actions(a: AlertRow, *, csrf: str, return_to: str) -> Markup:
    if a.status == "resolved":
        return Markup("")
    path = f"{BASE}/alerts/{quote(a.alert_id, safe='')}"
    return render(
        '<form method="post" action="{path}/acknowledge" class="alert-action">{csrf}'
        '<input type="hidden" name="return_to" value="{back}">'
        '<input name="by" required maxlength="256" placeholder="Your name" aria-label="Your name">'
        '<input name="note" maxlength="4000" placeholder="Note (optional)" aria-label="Note">'
        '<button type="submit" class="ack">Acknowledge</button>'
        '<button type="submit" class="resolve secondary" formaction="{path}/resolve">Resolve</button></form>',
        path=path,
        csrf=_csrf_field(csrf),
        back=return_to,
    )


def alerts_page(data: AlertsData, *, csrf: str, return_to: str) -> Markup:
    """The alert list, newest first, with acknowledge and resolve."""
    tabs = join(
        render(
            '<a href="{href}" class="{cls}">{text}</a>',
            href=alerts_href(status=s, account_id=data.account_id),
            cls="active" if s == data.status else "",
            text=label(s) if s else "All",
        )
        for s in (*STATUSES, None)
    )
    flash = Markup("")
    if data.notice:
        flash = render('<p class="flash" id="notice" role="status">{text}</p>', text=data.notice)
    if data.error:
        flash = render('<p class="flash error" id="error" role="alert">{text}</p>', text=data.error)
    rows = [
        render(
            '<tr data-alert="{id}"><td><span class="badge sev-{sev}">{sev}</span></td>'
            '<td><div class="alert-type">{type}</div><div class="summary">{summary}</div></td>'
            '<td><a href="{account_href}">{account}</a></td><td class="date">{opened}</td>'
            "<td>{state}</td><td>{actions}</td></tr>",
            id=a.alert_id,
            sev=a.severity,
            type=label(a.type),
            summary=a.record.get("summary", ""),
            account_href=account_href(a.account_id),
            account=a.account_id,
            opened=_date(a.opened_as_of),
            state=_alert_state(a),
            actions=_alert_actions(a, csrf=csrf, return_to=return_to),
        )
        for a in data.alerts
    ]
    empty = Markup('<tr><td colspan="6" class="empty">No alerts here.</td></tr>')
    scope = (
        render(' for <a href="{href}">{id}</a>', href=account_href(data.account_id), id=data.account_id)
        if data.account_id
        else Markup("")
    )
    pager = _pager(
        data.offset,
        data.page_size,
        len(data.alerts),
        lambda offset: alerts_href(status=data.status, account_id=data.account_id, offset=offset),
    )
    body = render(
        '<header class="page-head"><h1>Alerts{scope}</h1></header>{flash}<nav class="tabs">{tabs}</nav>'
        '<section class="card"><table class="table" id="alerts"><thead><tr><th>Severity</th><th>Alert</th>'
        "<th>Account</th><th>Opened</th><th>Status</th><th>Action</th></tr></thead><tbody>{rows}</tbody></table>{pager}</section>",
        scope=scope,
        flash=flash,
        tabs=tabs,
        rows=join(rows) if rows else empty,
        pager=pager,
    )
    return layout("Alerts", body, csrf=csrf, active="alerts")


# -- backtest ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestData:
    """The backtest of ``GET /v1/backtest`` over one lookback window."""

    result: BacktestView
    lookback_days: int


_KINDS: Final = {"risk_alert": "risk alert", "divergence_alert": "divergence alert", "classic": "classic NPS"}


def _calibration(fit: CalibrationView | None) -> Markup:
    if fit is None:
        return Markup("")
    if not fit.groups:
        body = render(
            '<p class="empty">No prediction yet: the risk is recorded {days} days before each renewal, and none of'
            " the renewals with an outcome has one.</p>",
            days=fit.horizon_days,
        )
    else:
        rows = join(
            render(
                '<tr data-group="{n}"><td>{n}</td><td class="num">{renewals}</td>'
                '<td class="num" data-field="predicted">{predicted}</td>'
                '<td class="num" data-field="observed">{observed}</td><td>{bars}</td></tr>',
                n=n,
                renewals=g.renewals,
                predicted=percent(g.predicted, 1),
                observed=percent(g.observed, 1),
                bars=join(
                    [
                        charts.bar(g.predicted, maximum=1.0, css="predicted", width=120),
                        charts.bar(g.observed, maximum=1.0, css="observed", width=120),
                    ]
                ),
            )
            for n, g in enumerate(fit.groups, start=1)
        )
        brier = render(
            '<dl class="facts inline"><dt>Brier score</dt><dd id="brier">{brier}</dd>'
            "<dt>always the base rate</dt><dd>{base}</dd><dt>renewals</dt><dd>{renewals} ({bad} went badly)</dd></dl>",
            brier=plain(fit.brier, 3),
            base=plain(fit.brier_base_rate, 3),
            renewals=fit.renewals,
            bad=fit.bad,
        )
        body = render(
            '{brier}<table class="table compact" id="calibration"><thead><tr><th>{group}</th>'
            '<th class="num">Renewals</th><th class="num">Predicted</th><th class="num">Observed</th>'
            '<th><span class="legend-item"><span class="swatch predicted"></span>predicted</span> '
            '<span class="legend-item"><span class="swatch observed"></span>observed</span></th></tr></thead>'
            "<tbody>{rows}</tbody></table>",
            brier=brier,
            group="Decile" if len(fit.groups) == 10 else "Group",  # fewer than ten renewals: fewer groups
            rows=rows,
        )
    return render(
        '<section class="card" id="calibration-card"><div class="card-head"><h2>Calibration of the renewal risk</h2>'
        '<p class="muted">The risk each account had {days} days before its renewal, sorted and cut into (up to) ten'
        " equal groups: each group's mean prediction beside the share that was churned or downsized. A calibrated"
        " risk reads the same in both columns; the Brier score (0 is perfect) must beat always predicting the base"
        " rate.</p></div>{body}</section>",
        days=fit.horizon_days,
        body=body,
    )


def backtest_page(data: BacktestData, *, csrf: str) -> Markup:
    """Each rule's precision, recall and lead time over the renewals with an outcome, the recommended
    rule highlighted, on a precision-recall chart, and the calibration of the renewal risk."""
    r = data.result
    recommended = r.recommended
    base_rate = r.bad_outcomes / r.renewals if r.renewals else None
    best = next((rule for rule in r.rules if rule.rule == recommended), None)
    outcomes = ", ".join(f"{n} {outcome}" for outcome, n in r.outcomes.items()) or "none"
    kpis = join(
        [
            _kpi("Renewals", str(r.renewals), outcomes, "renewals"),
            _kpi(
                "Went badly",
                str(r.bad_outcomes),
                f"base rate {percent(base_rate)}" if base_rate is not None else "no renewal yet",
                "bad-outcomes",
            ),
            _kpi(
                "Recommended rule",
                recommended,
                f"precision {percent(best.precision)}, recall {percent(best.recall)}" if best else "not scored",
                "recommended",
                "kpi-recommended",
            ),
            _kpi(
                "Brier score",
                plain(r.calibration.brier, 3) if r.calibration else DASH,
                f"always the base rate: {plain(r.calibration.brier_base_rate, 3)}" if r.calibration else "",
                "brier-kpi",
            ),
        ]
    )
    lookbacks = join(
        render(
            '<a href="{href}" class="{cls}">{days} days</a>',
            href=backtest_href(days),
            cls="active" if days == data.lookback_days else "",
            days=days,
        )
        for days in sorted({*LOOKBACKS, data.lookback_days})
    )
    if r.renewals and r.bad_outcomes:
        chart = charts.precision_recall_chart(
            [charts.RulePoint(rule.rule, rule.precision, rule.recall, rule.rule == recommended) for rule in r.rules],
            base_rate=base_rate,
            label="Precision against recall, one dot per rule",
        )
        unplaced = [rule.rule for rule in r.rules if rule.precision is None or rule.recall is None]
        missing = (
            render(
                '<p class="muted" id="not-drawn">Not drawn (flagged nothing): {names}.</p>', names=", ".join(unplaced)
            )
            if unplaced
            else Markup("")
        )
        figure = render(
            '<div><div class="chart-wrap pr-wrap" id="pr-chart">{chart}</div>{missing}</div>',
            chart=chart,
            missing=missing,
        )
    else:
        figure = Markup(
            '<p class="empty" id="pr-chart-empty">No renewal went badly yet, so no rule can be scored: the backtest'
            " reads <code>journey_moment</code> events with moment <code>renewal_outcome</code> and"
            " <code>attributes.outcome</code> renewed, downsized or churned.</p>"
        )
    explain = render(
        '<div class="pr-notes"><p>A rule <em>flags</em> a renewal when it was on at some time in the {days} days'
        " before it. <strong>Precision</strong>: of the renewals it flagged, the share that was churned or"
        " downsized. <strong>Recall</strong>: of those that went badly, the share it flagged. Up and to the right is"
        " better; below the dashed line a rule does no better than flagging every renewal.</p>"
        '<p><span class="legend-item"><span class="swatch recommended"></span><strong>{rec}</strong>: the rule a'
        " CRM should subscribe to</span></p>"
        '<div class="bucket-switch">Lookback {lookbacks}</div></div>',
        days=data.lookback_days,
        rec=recommended,
        lookbacks=lookbacks,
    )
    rows = join(
        render(
            '<tr data-rule="{rule}" class="{cls}"><td><span class="rule-name">{rule}</span>{badge}'
            '<div class="sub">{description}</div></td><td>{kind}</td>'
            '<td class="num" data-field="precision">{precision}</td><td class="num" data-field="recall">{recall}</td>'
            '<td class="num" data-field="median_lead_days">{lead}</td>'
            '<td class="num" data-field="flagged">{flagged}</td>'
            '<td class="num" data-field="caught">{caught}</td><td class="num" data-field="false_alarms">{false}</td>'
            '<td class="num" data-field="missed">{missed}</td><td class="num">{budget}</td></tr>',
            rule=rule.rule,
            cls="recommended" if rule.rule == recommended else "",
            badge=Markup(' <span class="badge badge-recommended">recommended</span>')
            if rule.rule == recommended
            else Markup(""),
            description=rule.description,
            kind=_KINDS.get(rule.kind, rule.kind),
            precision=percent(rule.precision),
            recall=percent(rule.recall),
            lead=DASH if rule.median_lead_days is None else f"{rule.median_lead_days:.0f}",
            flagged=rule.flagged,
            caught=rule.caught,
            false=rule.false_alarms,
            missed=rule.missed,
            budget=plain(rule.flags_per_bad_renewal),
        )
        for rule in r.rules
    )
    table = render(
        '<table class="table" id="rules"><thead><tr><th>Rule</th><th>Kind</th><th class="num">Precision</th>'
        '<th class="num">Recall</th><th class="num" title="Median days from the first flag to the renewal, over the'
        ' bad renewals caught">Median lead (days)</th><th class="num">Flagged</th><th class="num">Caught</th>'
        '<th class="num">False alarms</th><th class="num">Missed</th>'
        '<th class="num" title="Flagged / bad renewals: 1 when a rule flags as many as go badly">Flags per bad'
        " renewal</th></tr></thead><tbody>{rows}</tbody></table>",
        rows=rows,
    )
    unknown = (
        render(
            '<p class="muted">{n} renewal_outcome moment(s) without a known outcome left out.</p>', n=r.unknown_outcomes
        )
        if r.unknown_outcomes
        else Markup("")
    )
    body = render(
        '<header class="page-head"><h1>Backtest</h1><span class="sub">every renewal with a known outcome, flags'
        " counted in the {days} days before it</span></header>"
        '<section class="kpis four">{kpis}</section>'
        '<section class="card"><div class="card-head"><h2>Precision against recall</h2></div>'
        '<div class="pr-layout">{figure}{explain}</div></section>'
        '<section class="card"><div class="card-head"><h2>Rules</h2><p class="muted">The figures of'
        " <code>GET /v1/backtest?lookback_days={days}</code>, computed by the same code.</p></div>{table}{unknown}"
        "</section>{calibration}",
        days=data.lookback_days,
        kpis=kpis,
        figure=figure,
        explain=explain,
        table=table,
        unknown=unknown,
        calibration=_calibration(r.calibration),
    )
    return layout("Backtest", body, csrf=csrf, active="backtest")
