"""The dashboard in a real headless browser, on a live analyzer fed through ingest and Kafka.

Debian's Chromium and its WebDriver (``deploy/local/ensure-chromium.sh`` installs them; set
``DASHBOARD_TEST_CHROME`` / ``DASHBOARD_TEST_CHROMEDRIVER`` to use others) drive the pages as a
person would: sign in, read the figures and what each role says, sort the accounts by risk, read the
backtest, acknowledge an alert, sign out. Every figure shown is compared with what the JSON API serves.
Screenshots go to the test's tmp dir, and also to ``$DASHBOARD_SCREENSHOTS`` when set
(``python -m bench.screenshots`` sets it to ``docs/images``).
"""

from __future__ import annotations

import operator
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from services.analyzer.dashboard.figures import DASH, RISK_TYPES, amount, percent, plain, signed
from services.analyzer.dashboard.pages import whole
from shared.settings import Topics
from tests.dashboard import scenario
from tests.e2e.test_pipeline import analyzer_process, applied, post_batch
from tests.factories import ANALYZER_KEY, auth
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value

pytestmark = pytest.mark.e2e
WIDTH = 1400
OPEN = ("open", "acknowledged")


def _executable(variable: str, *names: str) -> str:
    found = os.environ.get(variable) or next((p for n in names if (p := shutil.which(n))), None)
    if not found:
        pytest.fail(f"no {names[0]} found: run 'bash deploy/local/ensure-chromium.sh' or set {variable}")
    return found


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless Chromium through its WebDriver, both from the system (nothing downloaded)."""
    options = Options()
    options.binary_location = _executable("DASHBOARD_TEST_CHROME", "chromium", "chromium-browser", "google-chrome")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={WIDTH},1000")
    service = Service(_executable("DASHBOARD_TEST_CHROMEDRIVER", "chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def text(driver: WebDriver, selector: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, selector).text).strip()


def screenshot(driver: WebDriver, path: Path, *, most: int = 4000) -> None:
    """The whole page (up to ``most`` pixels high) as a PNG."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    # The window's size counts the browser's own frame: add it, so the page's last rows are in the picture.
    frame = int(driver.execute_script("return window.outerHeight - window.innerHeight"))
    driver.set_window_size(WIDTH, min(height, most) + frame)
    driver.save_screenshot(str(path))
    driver.set_window_size(WIDTH, 1000)
    copies = os.environ.get("DASHBOARD_SCREENSHOTS")
    if copies:
        Path(copies).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(copies) / path.name)


def element_screenshot(driver: WebDriver, selector: str, path: Path) -> None:
    """One part of the page as a PNG (copied like ``screenshot``'s)."""
    driver.set_window_size(WIDTH, 1400)
    driver.find_element(By.CSS_SELECTOR, selector).screenshot(str(path))
    driver.set_window_size(WIDTH, 1000)
    copies = os.environ.get("DASHBOARD_SCREENSHOTS")
    if copies:
        Path(copies).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(copies) / path.name)


def wait_for(driver: WebDriver, condition: Any, what: str) -> None:
    WebDriverWait(driver, 15).until(condition, message=f"timed out waiting for {what}")


async def api(analyzer: ServiceProcess, path: str, **params: Any) -> Any:
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY), timeout=30) as client:
        response = await client.get(path, params=params)
        response.raise_for_status()
        return response.json()


def days_between(renewal: str, days_shown: str, before: date, after: date) -> None:
    """The days shown are counted from today (the page was drawn between ``before`` and ``after``)."""
    target = date.fromisoformat(renewal)
    assert int(days_shown) in {(target - before).days, (target - after).days}


async def test_the_dashboard_shows_the_api_figures_and_acknowledges_an_alert(
    kafka_bootstrap: str,
    topics: Topics,
    ingest: ServiceProcess,
    database_url: str,
    tmp_path: Path,
    browser: WebDriver,
) -> None:
    analyzer = analyzer_process(
        kafka_bootstrap,
        topics,
        database_url,
        tmp_path,
        "dashboard",
        ANALYZER_SWEEP_INTERVAL_S="0",
        ANALYZER_POLL_TIMEOUT_MS="100",
    )
    analyzer.start()
    try:
        bodies = scenario.events()
        # Month by month, each applied before the next is sent: the alerts open when they would have
        # in real time rather than all at the end of one large batch.
        sent = 0
        for month in scenario.by_month(bodies):
            assert (await post_batch(ingest, month)).status_code == 202
            sent += len(month)
            await wait_for_value(partial(applied, analyzer), partial(operator.eq, sent), what="a month applied")
        listed = await api(analyzer, "/v1/accounts")
        details = {a["account_id"]: await api(analyzer, f"/v1/accounts/{a['account_id']}") for a in listed}
        alerts = await api(analyzer, "/v1/alerts", limit=1000)
        divided = details[scenario.DIVIDED]
        assert divided["divergence"] >= 0.5, "the scenario must divide the account for this test to mean anything"

        # A stranger is sent to the login page, a wrong key is refused, the right one leads back.
        browser.get(f"{analyzer.url}/dashboard/accounts/{scenario.DIVIDED}")
        assert "/dashboard/login?next=" in browser.current_url
        browser.find_element(By.ID, "key").send_keys("not-a-key")
        browser.find_element(By.ID, "sign-in").click()
        # The refusal is a new page: wait for it, the click returns before it has loaded.
        wait_for(browser, lambda d: d.find_elements(By.ID, "login-error"), "the login error")
        assert text(browser, "#login-error") == "That key is not accepted."
        screenshot(browser, tmp_path / "dashboard-login.png")
        browser.find_element(By.ID, "key").send_keys(ANALYZER_KEY)
        browser.find_element(By.ID, "sign-in").click()
        wait_for(browser, lambda d: d.current_url.endswith(f"/dashboard/accounts/{scenario.DIVIDED}"), "the account")
        cookie = browser.get_cookie("sd_session")
        assert cookie is not None
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        assert ANALYZER_KEY not in cookie["value"]

        # One account: the same figures as GET /v1/accounts/{id}, its moments and alert openings.
        assert text(browser, "#account-name") == divided["name"]
        assert text(browser, "#divergence") == plain(divided["divergence"])
        assert text(browser, "#account-mean") == signed(divided["account_mean"])
        assert text(browser, "#nps") == signed(divided["nps"], 0)
        assert text(browser, "#annual-value") == amount(divided["annual_value"])
        assert text(browser, "#open-alerts") == str(divided["open_alerts"])
        for person in divided["stakeholders"]:
            row = f'#stakeholders tr[data-stakeholder="{person["stakeholder_id"]}"]'
            assert text(browser, f'{row} [data-field="position"]') == signed(person["position"])
            assert text(browser, f'{row} [data-field="confidence"]') == plain(person["confidence"])
            decides = browser.find_elements(By.CSS_SELECTOR, f"{row} .badge-decides")
            assert bool(decides) is person["decision_maker"], person["stakeholder_id"]
        # The renewal risk: its probability, model version and factors, the reasons first.
        risk = divided["risk"]
        assert text(browser, "#risk-probability") == percent(risk["probability"])
        assert text(browser, "#risk-model") == risk["model_version"]
        factors = browser.find_elements(By.CSS_SELECTOR, "#risk-factors tbody tr")
        assert len(factors) == len(risk["factors"])
        assert [f.get_attribute("data-factor") for f in factors][: len(risk["reasons"])] == risk["reasons"]
        chart = browser.find_element(By.CSS_SELECTOR, "#positions-chart svg")
        drawn = {s.get_attribute("textContent") for s in chart.find_elements(By.CSS_SELECTOR, "g.series > title")}
        assert {"Account mean", "Procurement", "IT"} <= drawn
        moments = [e for e in bodies if e["type"] == "journey_moment" and e["account_id"] == scenario.DIVIDED]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline tr.timeline-moment")) == len(moments)
        opened = [a for a in alerts if a["account_id"] == scenario.DIVIDED]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline tr.timeline-alert")) == len(opened)
        assert len(chart.find_elements(By.CSS_SELECTOR, "g.marker-alert")) == len(opened)
        assert browser.find_elements(By.CSS_SELECTOR, '#perception tr[data-dimension="support"]')
        screenshot(browser, tmp_path / "dashboard-account.png", most=2600)

        # What each role says: the themes and latest quotes of GET /v1/accounts/{id}/verbatims, per role.
        voices = await api(analyzer, f"/v1/accounts/{scenario.DIVIDED}/verbatims", quotes=3)
        it = next(r for r in voices["roles"] if r["role"] == "it")
        assert it["themes"], "the scenario's IT comments must name themes for this test to mean anything"
        article = '#verbatims article[data-role="it"]'
        for theme in it["themes"]:
            assert text(browser, f'{article} tr[data-theme="{theme["theme"]}"] [data-field="count"]') == str(
                theme["count"]
            )
        quotes = [q.text.strip() for q in browser.find_elements(By.CSS_SELECTOR, f"{article} blockquote")]
        assert quotes == [q["text"] for q in it["quotes"]]
        assert quotes[0] == scenario.COMMENTS["ivan"][-1]
        coverage = await api(analyzer, f"/v1/accounts/{scenario.DIVIDED}/coverage")
        heard = f"{coverage['decision_makers_heard']} of {len(coverage['decision_makers'])}"
        assert text(browser, "#decision-makers-heard") == heard
        element_screenshot(browser, "#verbatims", tmp_path / "dashboard-verbatims.png")
        element_screenshot(browser, "#coverage", tmp_path / "dashboard-coverage.png")

        # The accounts: ranked as the API ranks them, each with its figures; the value at risk.
        before = datetime.now(UTC).date()
        browser.find_element(By.LINK_TEXT, "Accounts").click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "accounts"), "the accounts page")
        after = datetime.now(UTC).date()
        rows = browser.find_elements(By.CSS_SELECTOR, "#accounts tbody tr")
        assert [r.get_attribute("data-account") for r in rows] == [a["account_id"] for a in listed]
        for account in listed:
            row = f'#accounts tr[data-account="{account["account_id"]}"]'
            assert text(browser, f'{row} [data-field="divergence"]') == plain(account["divergence"])
            assert text(browser, f'{row} [data-field="account_mean"]') == signed(account["account_mean"])
            assert text(browser, f'{row} [data-field="nps"]') == signed(account["nps"], 0)
            assert text(browser, f'{row} [data-field="open_alerts"]') == str(account["open_alerts"])
            assert text(browser, f'{row} [data-field="segment"]') == account["segment"]
            value = details[account["account_id"]]["annual_value"]
            assert text(browser, f'{row} [data-field="annual_value"]') == amount(value)
            days_between(account["renewal_date"], text(browser, f'{row} [data-field="days_to_renewal"]'), before, after)
            assert text(browser, f'{row} [data-field="risk"]') == percent(account["risk"])
            assert text(browser, f'{row} [data-field="value_at_risk"]') == whole(account["value_at_risk"])
            heard = await api(analyzer, f"/v1/accounts/{account['account_id']}/coverage")
            deciders = len(heard["decision_makers"])
            shown = f"{heard['decision_makers_heard']}/{deciders}" if deciders else DASH
            assert text(browser, f'{row} [data-field="deciders"]') == shown
        at_risk = {a["account_id"] for a in alerts if a["status"] in OPEN and a["type"] in RISK_TYPES}
        assert len(at_risk) >= 2, "the scenario must put several accounts at risk for this test to mean anything"
        assert text(browser, "#value-at-risk") == amount(sum(details[a]["annual_value"] for a in at_risk))
        assert text(browser, "#total-value") == amount(sum(d["annual_value"] for d in details.values()))
        screenshot(browser, tmp_path / "dashboard-accounts.png")

        # Sorted by renewal risk (a click on the column's header): the order of GET /v1/accounts?order=risk.
        by_risk = await api(analyzer, "/v1/accounts", order="risk")
        browser.find_element(By.ID, "sort-risk").click()
        wait_for(browser, lambda d: "order=risk" in d.current_url, "the accounts by risk")
        assert text(browser, "#accounts-title") == "Accounts by renewal risk"
        rows = browser.find_elements(By.CSS_SELECTOR, "#accounts tbody tr")
        assert [r.get_attribute("data-account") for r in rows] == [a["account_id"] for a in by_risk]

        # The backtest: the rules of GET /v1/backtest, the recommended one emphasised on the chart.
        backtest = await api(analyzer, "/v1/backtest")
        assert backtest["renewals"] == len(scenario.PAST)
        browser.find_element(By.LINK_TEXT, "Backtest").click()
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#pr-chart svg"), "the backtest chart")
        chart = browser.find_element(By.CSS_SELECTOR, "#pr-chart svg")
        dots = chart.find_elements(By.CSS_SELECTOR, "g.rule-point")
        measured = {r["rule"] for r in backtest["rules"] if r["precision"] is not None and r["recall"] is not None}
        assert {d.get_attribute("data-rule") for d in dots} == measured
        emphasised = chart.find_elements(By.CSS_SELECTOR, "g.rule-point.recommended")
        assert [d.get_attribute("data-rule") for d in emphasised] == [backtest["recommended"]]
        assert chart.find_elements(By.CSS_SELECTOR, "g.base-rate line.base-rate-line")
        for rule in backtest["rules"]:
            row = f'#rules tr[data-rule="{rule["rule"]}"]'
            assert text(browser, f'{row} [data-field="precision"]') == percent(rule["precision"])
            assert text(browser, f'{row} [data-field="recall"]') == percent(rule["recall"])
        assert (
            browser.find_element(By.CSS_SELECTOR, f'#rules tr[data-rule="{backtest["recommended"]}"]').get_attribute(
                "class"
            )
            == "recommended"
        )
        groups = backtest["calibration"]["groups"]
        assert len(browser.find_elements(By.CSS_SELECTOR, "#calibration tbody tr")) == len(groups)
        screenshot(browser, tmp_path / "dashboard-backtest.png")

        # Acknowledge an alert from the alerts page: the JSON API shows the change.
        target = next(a for a in alerts if a["account_id"] == scenario.DIVIDED and a["status"] == "open")
        browser.get(f"{analyzer.url}/dashboard/alerts?status=open")
        form = browser.find_element(By.CSS_SELECTOR, f'#alerts tr[data-alert="{target["alert_id"]}"] form')
        form.find_element(By.NAME, "by").send_keys("maria@supplier.example")
        form.find_element(By.NAME, "note").send_keys("call booked with IT")
        form.find_element(By.CSS_SELECTOR, "button.ack").click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "notice"), "the acknowledgement notice")
        assert text(browser, "#notice") == f"Alert {target['alert_id']} acknowledged."
        changed = next(a for a in await api(analyzer, "/v1/alerts", limit=1000) if a["alert_id"] == target["alert_id"])
        assert changed["status"] == "acknowledged"
        assert changed["acknowledged"]["by"] == "maria@supplier.example"
        assert changed["note"] == "call booked with IT"
        assert not browser.find_elements(By.CSS_SELECTOR, f'#alerts tr[data-alert="{target["alert_id"]}"]')
        screenshot(browser, tmp_path / "dashboard-alerts.png")

        # Signing out ends the session in the browser.
        browser.find_element(By.ID, "logout").click()
        wait_for(browser, lambda d: "/dashboard/login" in d.current_url, "the login page")
        browser.get(f"{analyzer.url}/dashboard")
        assert "/dashboard/login" in browser.current_url
    finally:
        analyzer.stop()
