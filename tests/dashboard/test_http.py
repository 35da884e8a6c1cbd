"""The dashboard over HTTP on a real database: login, CSRF, redirects, cookies, escaping, the alert forms.

The app runs in-process (ASGI) on SQLite and PostgreSQL; events are applied by the analyzer's own
processing, so the figures are the ones the JSON API serves.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from services.analyzer.app import create_app
from services.analyzer.dashboard.figures import label, percent, plain, signed
from services.analyzer.dashboard.pages import whole
from services.analyzer.dashboard.session import COOKIE_NAME, LOGIN_COOKIE_NAME
from tests.analyzer.helpers import apply_all, sessions_for
from tests.dashboard import scenario
from tests.factories import (
    ANALYZER_KEY,
    auth,
    create_account,
    create_analyzer_settings,
    create_stakeholder,
    create_survey,
)
from tests.harness.kafka import unique_topics

HOSTILE = '<script>alert("x")</script>'


def divided(account_id: str = "acme", **account: Any) -> list[dict[str, Any]]:
    """An account whose procurement and IT answer far apart: divergence and renewal alerts open."""
    at = "2026-05-01T10:00:00Z"
    return [
        create_account(account_id=account_id, segment="enterprise", renewal_date="2026-08-01", **account),
        create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-p", role="procurement"),
        create_stakeholder(account_id=account_id, stakeholder_id=f"{account_id}-i", role="it"),
        create_survey(account_id=account_id, stakeholder_id=f"{account_id}-p", score=10, occurred_at=at),
        create_survey(account_id=account_id, stakeholder_id=f"{account_id}-i", score=1, occurred_at=at),
    ]


@asynccontextmanager
async def dashboard(database_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The analyzer's API and dashboard in-process; a client that does not follow redirects."""
    app = create_app(create_analyzer_settings("127.0.0.1:1", unique_topics(), database_url, **settings), consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analyzer") as client:
            yield client


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, key: str = ANALYZER_KEY, next_path: str = "/dashboard") -> httpx.Response:
    form = await client.get("/dashboard/login", params={"next": next_path})
    return await client.post(
        "/dashboard/login", data={"csrf": hidden(form.text, "csrf"), "next": hidden(form.text, "next"), "key": key}
    )


async def test_every_page_sends_a_stranger_to_the_login_page_and_back_afterwards(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, divided())
    async with dashboard(database_url) as client:
        for path in ("/dashboard", "/dashboard/accounts/acme?bucket=day", "/dashboard/alerts", "/dashboard/backtest"):
            answer = await client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == f"/dashboard/login?{urlencode({'next': path})}", path
        forged = await client.get("/dashboard", headers={"Cookie": f"{COOKIE_NAME}=v1.e30.AAAA"})
        assert forged.status_code == 303
        assert (await client.post("/dashboard/alerts/x/acknowledge", data={"by": "x"})).status_code == 303

        signed_in = await sign_in(client, next_path="/dashboard/accounts/acme?bucket=day")
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/dashboard/accounts/acme?bucket=day"
        page = await client.get("/dashboard/accounts/acme?bucket=day")
        assert page.status_code == 200
        assert "Positions over time" in page.text


async def test_the_session_cookie_is_signed_httponly_strict_expiring_and_holds_no_key(database_url: str) -> None:
    async with dashboard(database_url, dashboard_session_ttl_s=600) as client:
        answer = await sign_in(client)
        cookies = answer.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith(f"{COOKIE_NAME}="))
        attributes = {a.strip().split("=")[0].lower(): a for a in session.split(";")[1:]}
        assert {"httponly", "samesite", "max-age", "path", "expires"} <= attributes.keys()
        assert attributes["samesite"].strip().lower() == "samesite=strict"
        assert attributes["max-age"].strip() == "Max-Age=600"
        assert attributes["path"].strip() == "Path=/dashboard"
        assert "secure" not in attributes, "ENVIRONMENT=test: no Secure flag, so plain-HTTP tests work"
        assert ANALYZER_KEY not in session
        assert any(c.startswith(f'{LOGIN_COOKIE_NAME}=""') for c in cookies), "the login token is spent"


async def test_in_production_the_cookies_are_secure(database_url: str) -> None:
    async with dashboard(database_url, environment="production", dashboard_cookie_secure=None) as client:
        form = await client.get("/dashboard/login")
        assert "secure" in form.headers["set-cookie"].lower()
        session = (await sign_in(client)).headers["set-cookie"]
        assert "secure" in session.lower()


async def test_a_wrong_key_or_a_missing_login_token_signs_nobody_in(database_url: str) -> None:
    async with dashboard(database_url) as client:
        wrong = await sign_in(client, key="not-the-key")
        assert wrong.status_code == 401
        assert "That key is not accepted" in wrong.text
        assert COOKIE_NAME not in wrong.cookies
        assert "not-the-key" not in wrong.text

        client.cookies.clear()
        no_token = await client.post("/dashboard/login", data={"key": ANALYZER_KEY, "csrf": "guess"})
        assert no_token.status_code == 403
        assert COOKIE_NAME not in no_token.cookies

        not_a_form = await client.post("/dashboard/login", json={"key": ANALYZER_KEY})
        assert not_a_form.status_code == 400

        elsewhere = await sign_in(client, next_path="https://evil.example/")
        assert elsewhere.status_code == 303
        assert elsewhere.headers["location"] == "/dashboard"


async def test_guessing_keys_from_one_address_is_limited(sqlite_url: str) -> None:
    async with dashboard(sqlite_url) as client:
        for _ in range(10):
            assert (await sign_in(client, key="guess")).status_code == 401
        limited = await sign_in(client, key=ANALYZER_KEY)
        assert limited.status_code == 429, "even the right key waits once the budget is spent"
        assert int(limited.headers["retry-after"]) >= 1
        assert COOKIE_NAME not in limited.cookies


async def test_with_no_keys_configured_nobody_signs_in(database_url: str) -> None:
    async with dashboard(database_url, analyzer_api_keys=[]) as client:
        assert (await sign_in(client, key="")).status_code == 401
        assert (await sign_in(client, key="anything")).status_code == 401


async def test_a_key_removed_from_the_settings_ends_its_sessions(database_url: str) -> None:
    async with dashboard(database_url, dashboard_session_secret="x" * 40) as client:
        await sign_in(client)
        cookie = {"Cookie": f"{COOKIE_NAME}={client.cookies[COOKIE_NAME]}"}
    async with dashboard(database_url, dashboard_session_secret="x" * 40) as client:
        assert (await client.get("/dashboard", headers=cookie)).status_code == 200, "same secret, same key"
    async with dashboard(database_url, dashboard_session_secret="x" * 40, analyzer_api_keys=["another-key"]) as client:
        assert (await client.get("/dashboard", headers=cookie)).status_code == 303


async def test_pages_escape_what_events_carry_and_forbid_scripts(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, divided(name=HOSTILE))
    async with dashboard(database_url) as client:
        await sign_in(client)
        for path in ("/dashboard", "/dashboard/accounts/acme", "/dashboard/alerts", "/dashboard/backtest"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert "<script" not in page.text, path
            csp = page.headers["content-security-policy"]
            assert "default-src 'none'" in csp
            assert "script-src" not in csp
            assert page.headers["cache-control"] == "no-store"
            assert page.headers["x-frame-options"] == "DENY"
        assert "&lt;script&gt;" in (await client.get("/dashboard")).text
        unknown = await client.get("/dashboard/accounts/%3Cb%3Enope")
        assert unknown.status_code == 404
        assert "&lt;b&gt;nope" in unknown.text


async def test_acknowledge_needs_the_session_csrf_token_and_then_changes_the_alert_in_the_api(
    database_url: str,
) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, divided())
    async with dashboard(database_url) as client:
        alerts = (await client.get("/v1/alerts", params={"status": "open"}, headers=auth(ANALYZER_KEY))).json()
        alert = next(a for a in alerts if a["type"] == "stakeholder_divergence")
        await sign_in(client)
        page = await client.get("/dashboard/alerts", params={"status": "open"})
        assert f'data-alert="{alert["alert_id"]}"' in page.text
        csrf = hidden(page.text, "csrf")
        path = f"/dashboard/alerts/{alert['alert_id']}/acknowledge"

        back = "/dashboard/alerts?status=open"
        for token in ("", "forged", None):
            form = {"by": "maria", "return_to": back} | ({"csrf": token} if token is not None else {})
            assert (await client.post(path, data=form)).status_code == 403
        assert (await client.post(path, data={"csrf": csrf, "by": " "})).status_code == 422
        still = (await client.get("/v1/alerts", params={"account_id": "acme"}, headers=auth(ANALYZER_KEY))).json()
        assert next(a for a in still if a["alert_id"] == alert["alert_id"])["status"] == "open"

        done = await client.post(path, data={"csrf": csrf, "by": "maria", "note": "call booked", "return_to": back})
        assert done.status_code == 303
        assert done.headers["location"] == f"/dashboard/alerts?status=open&done=acknowledged&alert={alert['alert_id']}"
        after = (await client.get("/v1/alerts", params={"account_id": "acme"}, headers=auth(ANALYZER_KEY))).json()
        changed = next(a for a in after if a["alert_id"] == alert["alert_id"])
        assert changed["status"] == "acknowledged"
        assert changed["acknowledged"]["by"] == "maria"
        assert changed["note"] == "call booked"
        assert "acknowledged." in (await client.get(done.headers["location"])).text

        resolve = f"/dashboard/alerts/{alert['alert_id']}/resolve"
        assert (await client.post(resolve, data={"csrf": csrf, "by": "maria"})).status_code == 303
        assert (await client.post(resolve, data={"csrf": csrf, "by": "maria"})).status_code == 409
        assert (await client.post("/dashboard/alerts/nope/resolve", data={"csrf": csrf, "by": "m"})).status_code == 404
        assert (await client.post("/dashboard/alerts/x/delete", data={"csrf": csrf, "by": "m"})).status_code == 422


async def test_logout_needs_the_token_and_ends_the_session_in_the_browser(database_url: str) -> None:
    async with dashboard(database_url) as client:
        await sign_in(client)
        page = await client.get("/dashboard")
        assert (await client.post("/dashboard/logout", data={"csrf": "forged"})).status_code == 403
        assert (await client.get("/dashboard")).status_code == 200
        out = await client.post("/dashboard/logout", data={"csrf": hidden(page.text, "csrf")})
        assert out.status_code == 303
        assert out.headers["location"] == "/dashboard/login"
        assert COOKIE_NAME not in client.cookies
        assert (await client.get("/dashboard")).status_code == 303


@pytest.mark.parametrize("name", ["dashboard.css", "favicon.svg"])
async def test_the_assets_come_from_the_analyzer(sqlite_url: str, name: str) -> None:
    async with dashboard(sqlite_url) as client:
        asset = await client.get(f"/dashboard/static/{name}")
        assert asset.status_code == 200
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert (await client.get("/dashboard/static/..%2Fsession.py")).status_code == 404
        html = (await client.get("/dashboard/login")).text
        assert not re.search(r'(src|href)="(https?:)?//', html), "no asset from another origin"


async def load_portfolio(database_url: str) -> None:
    """The browser test's portfolio (tests/dashboard/scenario.py), a month at a time as the live test sends it."""
    async with sessions_for(database_url) as sessions:
        for month in scenario.by_month(scenario.events()):
            await apply_all(sessions, month)


def field(page: str, row: str, name: str) -> str:
    """The text of ``data-field="name"`` in the table row whose opening tag contains ``row``."""
    match = re.search(rf"<tr {re.escape(row)}[^>]*>(?:(?!</tr>).)*?data-field=\"{name}\"[^>]*>([^<]*)<", page, re.S)
    assert match, f"no {name} in row {row}"
    return html.unescape(match.group(1))


async def test_the_accounts_show_risk_and_value_at_risk_and_sort_by_them_as_the_api_does(database_url: str) -> None:
    await load_portfolio(database_url)
    async with dashboard(database_url) as client:
        await sign_in(client)
        for order, title in (
            ("divergence", "Accounts by divergence"),
            ("risk", "Accounts by renewal risk"),
            ("value_at_risk", "Accounts by value at risk"),
        ):
            listed = (await client.get("/v1/accounts", params={"order": order}, headers=auth(ANALYZER_KEY))).json()
            page = (await client.get("/dashboard", params={"order": order})).text
            assert re.findall(r'<tr data-account="([^"]+)"', page) == [a["account_id"] for a in listed], order
            assert f'<h2 id="accounts-title">{title}</h2>' in page
            assert re.search(rf'id="sort-{order}" class="sort active"', page), "the active order is marked"
            for account in listed:
                row = f'data-account="{account["account_id"]}"'
                assert field(page, row, "risk") == percent(account["risk"])
                assert field(page, row, "value_at_risk") == whole(account["value_at_risk"])
        assert any(a["risk"] is None for a in listed), "an account without answers has no risk: a dash"
        default = (await client.get("/dashboard")).text
        assert 'href="/dashboard?order=risk" id="sort-risk"' in default
        assert 'href="/dashboard?order=value_at_risk" id="sort-value_at_risk"' in default
        assert 'href="/dashboard" id="sort-divergence" class="sort active"' in default
        segment = (await client.get("/dashboard", params={"segment": "enterprise", "order": "risk"})).text
        assert 'href="/dashboard?order=value_at_risk&amp;segment=enterprise"' in segment, "sorting keeps the segment"
        assert (await client.get("/dashboard", params={"order": "nonsense"})).status_code == 422


async def test_the_account_page_shows_the_renewal_risk_its_factors_and_who_decides(database_url: str) -> None:
    await load_portfolio(database_url)
    async with dashboard(database_url) as client:
        view = (await client.get("/v1/accounts/stark", headers=auth(ANALYZER_KEY))).json()
        await sign_in(client)
        page = (await client.get("/dashboard/accounts/stark")).text
    risk = view["risk"]
    assert risk["reasons"], "the scenario must give the account reasons for this test to mean anything"
    probability = re.search(r'id="risk-probability">([^<]*)<', page)
    assert probability
    assert probability.group(1) == percent(risk["probability"])
    assert f'id="risk-model">{risk["model_version"]}<' in page
    assert f"<dd>{label(risk['lowest_decision_role'])}</dd>" in page
    shown = re.findall(r'<tr data-factor="([^"]+)" class="([^"]*)"', page)
    assert [name for name, _ in shown][: len(risk["reasons"])] == risk["reasons"], "the reasons first, in order"
    assert {name for name, cls in shown if cls == "reason"} == set(risk["reasons"])
    assert {name for name, _ in shown} == {f["name"] for f in risk["factors"]}
    for factor in risk["factors"]:
        row = f'data-factor="{factor["name"]}"'
        assert field(page, row, "value") == f"{factor['value']:.2f}"
        contribution = factor["contribution"] if abs(factor["contribution"]) >= 0.005 else 0.0
        assert field(page, row, "contribution") == signed(contribution)
    for person in view["stakeholders"]:
        row = f'data-stakeholder="{person["stakeholder_id"]}"'
        opening = re.search(rf"<tr {row}[^>]*>(?:(?!</tr>).)*</tr>", page, re.S)
        assert opening
        assert ("badge-decides" in opening.group(0)) is person["decision_maker"], person["stakeholder_id"]
        assert field(page, row, "position") == signed(person["position"])
        if person["se"] is not None and person["position"] is not None:
            assert field(page, row, "se") == "\N{PLUS-MINUS SIGN} " + plain(person["se"])
    assert any(p["decision_maker"] for p in view["stakeholders"])
    assert any(not p["decision_maker"] for p in view["stakeholders"])


async def test_an_account_never_evaluated_has_no_risk_in_the_list(sqlite_url: str) -> None:
    async with sessions_for(sqlite_url) as sessions:
        await apply_all(sessions, [create_account(account_id="quiet", annual_value=10_000), *divided()])
    async with dashboard(sqlite_url) as client:
        await sign_in(client)
        listed = (await client.get("/dashboard", params={"order": "value_at_risk"})).text
    assert re.findall(r'<tr data-account="([^"]+)"', listed) == ["acme", "quiet"], "no risk yet: last"
    assert field(listed, 'data-account="quiet"', "risk") == "\N{EN DASH}"
    assert field(listed, 'data-account="quiet"', "value_at_risk") == "\N{EN DASH}"
    assert field(listed, 'data-account="acme"', "value_at_risk") == "\N{EN DASH}", "no annual value"
    assert field(listed, 'data-account="acme"', "risk").endswith("%")


async def test_the_backtest_page_shows_the_api_backtest_with_the_recommended_rule_and_calibration(
    database_url: str,
) -> None:
    await load_portfolio(database_url)
    async with dashboard(database_url) as client:
        await sign_in(client)
        for lookback in (180, 90):
            params = {"lookback_days": lookback}
            api = (await client.get("/v1/backtest", params=params, headers=auth(ANALYZER_KEY))).json()
            answer = await client.get("/dashboard/backtest", params=params if lookback != 180 else None)
            assert answer.status_code == 200
            assert "script-src" not in answer.headers["content-security-policy"]
            page = answer.text
            assert api["renewals"] == len(scenario.PAST), "every past renewal of the scenario is scored"
            assert f"flags counted in the {lookback} days before it" in page
            assert re.findall(r'<tr data-rule="([^"]+)"', page) == [r["rule"] for r in api["rules"]]
            for rule in api["rules"]:
                row = f'data-rule="{rule["rule"]}"'
                assert field(page, row, "precision") == percent(rule["precision"])
                assert field(page, row, "recall") == percent(rule["recall"])
                for name in ("flagged", "caught", "false_alarms", "missed"):
                    assert field(page, row, name) == str(rule[name])
            recommended = api["recommended"]
            assert f'<tr data-rule="{recommended}" class="recommended">' in page
            assert page.count('class="recommended"') == 1
            # The chart: one dot per rule with both figures, the recommended one emphasised.
            chart = re.search(r'<div class="chart-wrap pr-wrap" id="pr-chart">(<svg.*?</svg>)</div>', page, re.S)
            assert chart
            svg = chart.group(1)
            measured = [r["rule"] for r in api["rules"] if r["precision"] is not None and r["recall"] is not None]
            assert sorted(re.findall(r'<g class="rule-point[^"]*" data-rule="([^"]+)"', svg)) == sorted(measured)
            assert re.findall(r'<g class="rule-point recommended" data-rule="([^"]+)"', svg) == [recommended]
            base_rate = api["bad_outcomes"] / api["renewals"]
            assert f"base rate {percent(base_rate)}" in svg
            # The calibration: one row per group of the endpoint's.
            groups = api["calibration"]["groups"]
            assert groups, "the scenario's accounts have a risk 90 days before their renewal"
            assert len(re.findall(r'<tr data-group="', page)) == len(groups)
            for n, group in enumerate(groups, start=1):
                assert field(page, f'data-group="{n}"', "predicted") == percent(group["predicted"], 1)
                assert field(page, f'data-group="{n}"', "observed") == percent(group["observed"], 1)
            assert re.search(rf'id="brier">{re.escape(plain(api["calibration"]["brier"], 3))}<', page)
        assert (await client.get("/dashboard/backtest", params={"lookback_days": 0})).status_code == 422
        nav = (await client.get("/dashboard")).text
        assert '<a href="/dashboard/backtest" class="">Backtest</a>' in nav


async def test_the_backtest_page_without_renewals_draws_no_chart(sqlite_url: str) -> None:
    async with sessions_for(sqlite_url) as sessions:
        await apply_all(sessions, divided())
    async with dashboard(sqlite_url) as client:
        await sign_in(client)
        page = (await client.get("/dashboard/backtest")).text
    assert 'id="pr-chart-empty"' in page
    assert '<svg class="chart pr-chart"' not in page
    assert "No prediction yet" in page
    assert '<tr data-rule="renewal_risk" class="recommended">' in page
