"""``/dashboard``: the analyzer's figures as web pages, behind a login with an API key of the ``dashboard`` scope.

Reads go through the repositories and the JSON API's own code (the account view, the history, the
backtest's scoring); the alert forms call the alert service the API calls. Every page needs a
session (else a redirect to the login page), every form that changes something carries the
session's CSRF token, and every answer forbids caching, framing and any script or style from
elsewhere.
"""

from __future__ import annotations

import math
import secrets
import time
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from services.analyzer.accounts import repository as account_repository
from services.analyzer.accounts.schemas import AccountSummary
from services.analyzer.accounts.service import account_history, account_view, value_at_risk
from services.analyzer.alerts import repository as alert_repository
from services.analyzer.alerts import service as alert_service
from services.analyzer.alerts.schemas import AlertChange
from services.analyzer.assessment import Assessor
from services.analyzer.backtest import service as backtest_service
from services.analyzer.backtest.endpoints import MAX_LOOKBACK_DAYS
from services.analyzer.dashboard import pages, portfolio_page
from services.analyzer.dashboard.figures import CHART_BUCKETS, RISK_TYPES, nps_series
from services.analyzer.dashboard.links import BASE, DEFAULT_LOOKBACK, DEFAULT_ORDER, AccountOrder, alerts_href
from services.analyzer.dashboard.session import (
    COOKIE_NAME,
    COOKIE_PATH,
    LOGIN_COOKIE_NAME,
    LOGIN_TOKEN_TTL_S,
    Session,
    SessionCodec,
    new_token,
    tokens_match,
)
from services.analyzer.deps import Offset, SessionDep, SettingsDep, client_address, get_writer_session
from services.analyzer.keys import ALERTS_WRITE, DASHBOARD, ApiKey, find_key
from services.analyzer.model.alerts import AlertStatus
from services.analyzer.model.history import Bucket
from services.analyzer.model.rules.perception import ALL_DIMENSIONS, dimension_gaps
from services.analyzer.plans import endpoints as plan_endpoints
from services.analyzer.portfolio import endpoints as portfolio_endpoints
from services.analyzer.portfolio import repository as portfolio_repository
from services.analyzer.portfolio import service as portfolio_service
from services.analyzer.portfolio.export import to_csv
from services.analyzer.portfolio.schemas import portfolio_view
from services.analyzer.repository import directory, responses
from services.analyzer.repository.directory import OPEN_STATUSES
from services.analyzer.requests import reading
from services.analyzer.settings import AnalyzerSettings
from services.analyzer.verbatims import repository as verbatim_repository
from services.analyzer.verbatims.sides import alert_side_themes
from services.analyzer.verbatims.summary import by_role
from shared.authguard import AuthGuard
from shared.errors import AppError, Conflict, InvalidRequest, NotFound

router = APIRouter(prefix=BASE, include_in_schema=False)

PAGE_SIZE: Final = 50
MAX_MOMENTS: Final = 500  # journey moments drawn on one account's chart (and alerts listed), the latest ones
MAX_FORM_FIELDS: Final = 16
_STATIC_DIR = Path(__file__).parent / "static"
_STATIC_TYPES: Final = {"dashboard.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}
_STATIC: Final = {name: (_STATIC_DIR / name).read_bytes() for name in _STATIC_TYPES}
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def install(app: FastAPI, settings: AnalyzerSettings) -> None:
    """Mount the dashboard on the analyzer app, with the session signer its settings describe."""
    configured = settings.dashboard_session_secret
    # Without a configured secret each process signs with its own: sessions end when it restarts.
    secret = configured.get_secret_value().encode() if configured is not None else secrets.token_bytes(32)
    app.state.dashboard_sessions = SessionCodec(secret, int(settings.dashboard_session_ttl_s))
    from services.analyzer.dashboard import plan_routes

    app.include_router(router)
    app.include_router(plan_routes.router)


class LoginRequired(AppError):
    """No valid session: answered with a redirect to the login page."""

    status_code = 303
    error = "login_required"

    def __init__(self, location: str) -> None:
        super().__init__("sign in to see the dashboard", headers={"Location": location, "Cache-Control": "no-store"})


def _codec(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.dashboard_sessions
    return codec


def _assessor(request: Request) -> Assessor:
    assessor: Assessor = request.app.state.assessor
    return assessor


def _now() -> int:
    return int(time.time())


def _today() -> datetime:
    return datetime.now(UTC)


def _heard_within(request: Request) -> timedelta:
    """How recent an answer must be for its author to count as heard (``SURVEY_REQUEST_SILENT_AFTER_S``)."""
    settings: AnalyzerSettings = request.app.state.settings
    return timedelta(seconds=settings.survey_request_silent_after_s)


def _secure(request: Request) -> bool:
    settings: AnalyzerSettings = request.app.state.settings
    if settings.dashboard_cookie_secure is not None:
        return settings.dashboard_cookie_secure
    return settings.environment == "production"


def _current_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_path(value: str | None, default: str = BASE) -> str:
    """``value`` if it is a path inside the dashboard, else ``default``: redirects never leave the site."""
    if not value or any(ord(c) < 0x20 or c == "\\" for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return default
    if parts.path != BASE and not parts.path.startswith(BASE + "/"):
        return default
    return value


def dashboard_keys(settings: AnalyzerSettings) -> list[ApiKey]:
    """The keys that may sign in: those with the ``dashboard`` scope."""
    return [key for key in settings.analyzer_api_keys if key.allows(DASHBOARD)]


def require_login(request: Request, settings: SettingsDep) -> Session:
    """The caller's session, or a redirect to the login page that comes back here afterwards."""
    session = _codec(request).read(request.cookies.get(COOKIE_NAME), dashboard_keys(settings), now=_now())
    if session is None:
        raise LoginRequired(f"{BASE}/login?{urlencode({'next': _current_path(request)})}")
    return session


LoginDep = Annotated[Session, Depends(require_login)]


def page(html: str, status_code: int = 200) -> HTMLResponse:
    """An HTML answer (a rendered page) with the dashboard's security headers."""
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def redirect(location: str) -> RedirectResponse:
    """A 303 (after a form, the browser follows with GET)."""
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


async def read_form(request: Request) -> dict[str, str] | None:
    """A URL-encoded form body as a dict (first value of each name), or None if it is not one."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return None
    try:
        text = (await request.body()).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


# -- static files, login, logout -------------------------------------------------------------------------


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """The stylesheet and the icon, from the repository (no CDN)."""
    if name not in _STATIC:
        raise NotFound(f"no static file {name!r}")
    return Response(
        _STATIC[name],
        media_type=_STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def _login_form(request: Request, next_path: str, *, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    token = new_token()
    response = page(pages.login_page(token=token, next_path=next_path, error=error), status_code)
    response.set_cookie(
        LOGIN_COOKIE_NAME,
        token,
        max_age=LOGIN_TOKEN_TTL_S,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/login")
async def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    """The sign-in form (or straight on, with a valid session)."""
    target = safe_path(next)
    if _codec(request).read(request.cookies.get(COOKIE_NAME), dashboard_keys(settings), now=_now()) is not None:
        return redirect(target)
    return _login_form(request, target)


@router.post("/login")
async def login(request: Request, settings: SettingsDep) -> Response:
    """Check the key in constant time; on success, a signed session cookie that does not hold it."""
    form = await read_form(request)
    if form is None:
        return _login_form(request, BASE, error="The form could not be read; try again.", status_code=400)
    target = safe_path(form.get("next"))
    if not tokens_match(form.get("csrf"), request.cookies.get(LOGIN_COOKIE_NAME)):
        return _login_form(request, target, error="The sign-in form expired; try again.", status_code=403)
    # The analyzer's one failed-authentication budget, shared with its JSON API: per client address
    # and per presented key, checked before the key is.
    guard: AuthGuard = request.app.state.auth_guard
    address, given = client_address(request), form.get("key", "").strip()
    if wait := guard.wait(address, given or None):
        error = f"Too many failed sign-ins; try again in {wait} s."
        answer = _login_form(request, target, error=error, status_code=429)
        answer.headers["Retry-After"] = str(wait)
        return answer
    key = find_key(given, settings.analyzer_api_keys) if given else None
    if key is None:
        guard.failed(address, given or None)
        return _login_form(request, target, error="That key is not accepted.", status_code=401)
    if not key.allows(DASHBOARD):
        # A valid key: no throttling, but no session either.
        text = f"The key {key.id!r} lacks the 'dashboard' scope; sign in with a key that has it."
        return _login_form(request, target, error=text, status_code=403)
    cookie, session = _codec(request).issue(key, now=_now())
    response = redirect(target)
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=session.expires_at - _now(),
        expires=session.expires_at - _now(),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE_NAME, path=COOKIE_PATH)
    return response


@router.post("/logout")
async def logout(request: Request, settings: SettingsDep) -> Response:
    """End the session (its form carries the CSRF token) and go back to the login page."""
    session = _codec(request).read(request.cookies.get(COOKIE_NAME), dashboard_keys(settings), now=_now())
    form = await read_form(request)
    if session is not None and (form is None or not tokens_match(form.get("csrf"), session.csrf)):
        return page(
            pages.message_page("Not signed out", "The form expired; reload the page and try again.", csrf=None), 403
        )
    response = redirect(f"{BASE}/login")
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="strict", secure=_secure(request))
    return response


# -- pages ---------------------------------------------------------------------------------------------


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@router.get("")
async def accounts(
    request: Request,
    login: LoginDep,
    session: SessionDep,
    offset: Offset = 0,
    segment: Annotated[str | None, Query(max_length=64)] = None,
    order: AccountOrder = DEFAULT_ORDER,
) -> HTMLResponse:
    """The portfolio: value at risk, and accounts ranked by divergence, renewal risk or value at risk."""
    listed = await directory.list_accounts(session, segment=segment, order=order, limit=PAGE_SIZE, offset=offset)
    ids = [account.account_id for account, _, _ in listed]
    risks = await alert_repository.open_types(session, ids, types=RISK_TYPES)
    thresholds = _assessor(request).config.thresholds
    heard = await reading.decision_makers_heard(
        session, ids, decision_roles=thresholds.decision_roles, heard_within=_heard_within(request), now=_today()
    )
    open_alerts = await alert_repository.open_total(session)
    rows = [
        pages.AccountLine(
            summary=AccountSummary(
                account_id=account.account_id,
                name=account.name,
                segment=account.segment,
                renewal_date=account.renewal_date,
                account_mean=model.account_mean if model else None,
                divergence=model.divergence if model else None,
                nps=model.nps if model else None,
                open_alerts=int(n or 0),
                risk=_finite(model.risk) if model else None,
                value_at_risk=value_at_risk(_finite(model.risk) if model else None, account.annual_value),
            ),
            annual_value=account.annual_value,
            risks=frozenset(risks.get(account.account_id, ())),
            deciders=heard.get(account.account_id),
        )
        for account, model, n in listed
    ]
    data = pages.AccountsData(
        portfolio=await account_repository.portfolio(session, risk_types=RISK_TYPES),
        open_alerts=open_alerts,
        rows=rows,
        today=_today().date(),
        offset=offset,
        page_size=PAGE_SIZE,
        segment=segment,
        order=order,
        risk_warning=thresholds.risk_warning,
        risk_critical=thresholds.risk_critical,
    )
    return page(pages.accounts_page(data, csrf=login.csrf))


@router.get("/accounts/{account_id}")
async def account(
    account_id: str,
    request: Request,
    login: LoginDep,
    session: SessionDep,
    bucket: Bucket | None = None,
) -> HTMLResponse:
    """One account: its figures, positions over time, stakeholders, perception gap, what each role says,
    coverage and survey requests, and timeline."""
    found = await directory.get_account(session, account_id)
    if found is None:
        return page(pages.message_page("Unknown account", f"There is no account {account_id!r}.", csrf=login.csrf), 404)
    assessor = _assessor(request)
    snap = await assessor.snapshot(session, found)
    view = await account_view(session, found, snap)
    chosen: Bucket = bucket or "week"
    try:
        points, answers = await account_history(session, assessor.config, found, bucket=chosen, since=None, until=None)
    except InvalidRequest:  # a span too long for the bucket asked for: fall back to months
        chosen, bucket = "month", None
        points, answers = await account_history(session, assessor.config, found, bucket=chosen, since=None, until=None)
    if bucket is None and len(points) > CHART_BUCKETS and chosen != "month":
        chosen = "month"
        points, answers = await account_history(session, assessor.config, found, bucket=chosen, since=None, until=None)
    elif bucket is None and 0 < len(points) < 4:
        chosen = "day"
        points, answers = await account_history(session, assessor.config, found, bucket=chosen, since=None, until=None)
    sides = {s.stakeholder_id: s.side for s in view.stakeholders}
    last_roles = {r.role: r.position for p in points for r in p.roles}  # each role's latest position
    gaps = {g.dimension: g.perception for g in dimension_gaps(snap, assessor.config.thresholds)}
    sides_by_dimension = [(ALL_DIMENSIONS, snap.client_side, snap.supplier_side)]
    sides_by_dimension += [(d.dimension, d.client, d.supplier) for d in snap.dimensions]
    dimensions = [
        pages.DimensionRow(name, client.position, supplier.position, gaps.get(name))
        for name, client, supplier in sides_by_dimension
        if client is not None and supplier is not None
    ]
    alerts = sorted(
        await alert_repository.search(
            session, status=None, account_id=account_id, type=None, limit=MAX_MOMENTS, offset=0
        ),
        key=lambda a: (a.opened_as_of, a.alert_id),
    )
    comments = (await verbatim_repository.comments(session, [account_id])).get(account_id, [])
    data = pages.AccountData(
        view=view,
        history=points,
        nps=nps_series(answers, sides, [p.as_of for p in points]),
        bucket=chosen,
        moments=await responses.latest_moments(session, account_id, limit=MAX_MOMENTS),
        alerts=alerts,
        dimensions=dimensions,
        today=_today().date(),
        roles_in_history=sorted(last_roles, key=lambda r: (-last_roles[r], r)),
        risk_warning=assessor.config.thresholds.risk_warning,
        risk_critical=assessor.config.thresholds.risk_critical,
        verbatims=by_role(comments, quotes=pages.QUOTES_SHOWN),
        alert_themes=await alert_side_themes(session, [a for a in alerts if a.status in OPEN_STATUSES]),
        coverage=await reading.account_coverage(
            session,
            account_id,
            decision_roles=assessor.config.thresholds.decision_roles,
            heard_within=_heard_within(request),
            now=_today(),
        ),
    )
    alert_ids = [a.alert_id for a in data.alerts]
    data = replace(data, plans=await plan_endpoints.plans_by_alert(session, assessor, alert_ids))
    return page(pages.account_page(data, csrf=login.csrf))


@router.get("/backtest")
async def backtest(
    request: Request,
    login: LoginDep,
    session: SessionDep,
    lookback_days: Annotated[int, Query(ge=1, le=MAX_LOOKBACK_DAYS)] = DEFAULT_LOOKBACK,
) -> HTMLResponse:
    """Each rule against the renewal outcomes, as ``GET /v1/backtest`` computes it, and the risk's calibration."""
    horizon = _assessor(request).config.thresholds.risk_horizon
    settings: AnalyzerSettings = request.app.state.settings
    try:
        result = await backtest_service.compute(
            session,
            lookback=timedelta(days=lookback_days),
            horizon=horizon,
            max_rows=settings.analyzer_backtest_max_rows,
        )
    except InvalidRequest as exc:
        text = exc.detail[0]["message"] if isinstance(exc.detail, list) and exc.detail else "The backtest is too large."
        return page(pages.message_page("Backtest too large", str(text), csrf=login.csrf), 422)
    return page(pages.backtest_page(pages.BacktestData(result, lookback_days), csrf=login.csrf))


@router.get("/portfolio")
async def portfolio(
    request: Request,
    login: LoginDep,
    session: SessionDep,
    segment: Annotated[list[str], Query(max_length=portfolio_endpoints.MAX_SEGMENTS)] = [],  # noqa: B006
    quarters: Annotated[int, Query(ge=1, le=portfolio_service.MAX_QUARTERS)] = portfolio_service.DEFAULT_QUARTERS,
) -> HTMLResponse:
    """Patterns across the portfolio, as ``GET /v1/portfolio`` computes them: heat map, trend and tables."""
    found = await portfolio_service.build(session, _assessor(request).config, segments=segment, quarters=quarters)
    view = portfolio_view(found)
    segments = await portfolio_repository.segments(session)
    return page(portfolio_page.portfolio_page(view, all_segments=segments, csrf=login.csrf))


@router.get("/portfolio/export.csv")
async def portfolio_csv(
    request: Request,
    login: LoginDep,
    session: SessionDep,
    segment: Annotated[list[str], Query(max_length=portfolio_endpoints.MAX_SEGMENTS)] = [],  # noqa: B006
) -> Response:
    """The page's figures as CSV (the same as ``GET /v1/portfolio.csv``)."""
    found = await portfolio_service.build(session, _assessor(request).config, segments=segment)
    return Response(
        to_csv(portfolio_view(found)),
        media_type=portfolio_endpoints.CSV_TYPE,
        headers={**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="portfolio.csv"'},
    )


_DONE: Final = {"acknowledge": AlertStatus.ACKNOWLEDGED, "resolve": AlertStatus.RESOLVED}


@router.get("/alerts")
async def alerts(
    request: Request,
    login: LoginDep,
    session: SessionDep,
    status: AlertStatus | None = None,
    account_id: Annotated[str | None, Query(max_length=128)] = None,
    offset: Offset = 0,
    done: Literal[AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED] | None = None,
    alert: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:
    """The alerts, newest first, filtered by status and account, with acknowledge and resolve."""
    rows = await alert_repository.search(
        session, status=status, account_id=account_id or None, type=None, limit=PAGE_SIZE, offset=offset
    )
    notice = f"Alert {alert} {done}." if done and alert else None
    plans = await plan_endpoints.plans_by_alert(session, _assessor(request), [a.alert_id for a in rows])
    data = pages.AlertsData(
        alerts=rows,
        status=status,
        account_id=account_id or None,
        offset=offset,
        page_size=PAGE_SIZE,
        notice=notice,
        plans=plans,
        themes=await alert_side_themes(session, [r for r in rows if r.status in OPEN_STATUSES]),
    )
    return_to = alerts_href(status=status, account_id=account_id, offset=offset or None)
    return page(pages.alerts_page(data, csrf=login.csrf, return_to=return_to))


def _with_query(path: str, **extra: str) -> str:
    parts = urlsplit(path)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in extra] + list(extra.items())
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


@router.post("/alerts/{alert_id}/{action}")
async def change_alert(
    alert_id: str, action: Literal["acknowledge", "resolve"], request: Request, login: LoginDep
) -> Response:
    """Acknowledge or resolve an alert through the alert service, as ``POST /v1/alerts/...`` does."""
    form = await read_form(request)
    if form is None:
        return page(pages.message_page("Bad request", "The form could not be read.", csrf=login.csrf), 400)
    if not tokens_match(form.get("csrf"), login.csrf):
        return page(
            pages.message_page("Form expired", "The form expired; reload the page and try again.", csrf=login.csrf), 403
        )
    if ALERTS_WRITE not in login.scopes:
        text = f"The key {login.key_id!r} you signed in with lacks the 'alerts:write' scope that changing alerts needs."
        return page(pages.message_page("Not allowed", text, csrf=login.csrf), 403)
    back = safe_path(form.get("return_to"), alerts_href(status=AlertStatus.OPEN))
    try:
        change = AlertChange(by=form.get("by", "").strip(), note=form.get("note", "").strip() or None)
    except ValidationError:
        text = "Say who you are (1 to 256 characters); a note may hold up to 4000 characters."
        return page(pages.message_page("Not changed", text, csrf=login.csrf), 422)
    assessor = _assessor(request)
    try:
        async with asynccontextmanager(get_writer_session)(request) as session:
            await alert_service.change_by_hand(
                session,
                alert_id,
                action=action,
                by=change.by,
                note=change.note,
                topics=assessor.topics,
                key_id=login.key_id,
            )
    except NotFound:
        return page(pages.message_page("Unknown alert", f"There is no alert {alert_id!r}.", csrf=login.csrf), 404)
    except Conflict:
        text = f"Alert {alert_id} is already resolved."
        return page(pages.message_page("Already resolved", text, csrf=login.csrf), 409)
    return redirect(_with_query(back, done=_DONE[action], alert=alert_id))
