"""The dashboard's portfolio page in a real headless browser, on a live analyzer (SQLite and PostgreSQL).

The accounts are applied to the database through the analyzer's own processing before it starts; the
page's heat map, trend chart and tables are compared with what ``GET /v1/portfolio`` serves, and a
segment named like markup must show as text. The screenshot goes where ``test_dashboard`` puts its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from services.analyzer.dashboard.figures import percent, signed
from shared.settings import Topics
from tests.analyzer.helpers import apply_all, sessions_for
from tests.analyzer.portfolio.test_portfolio_api import account, portfolio_events
from tests.e2e.test_dashboard import api, browser, screenshot, text, wait_for
from tests.e2e.test_pipeline import analyzer_process
from tests.factories import ANALYZER_KEY

pytestmark = pytest.mark.e2e
HOSTILE = '<img src=x onerror="document.title=1">'
__all__ = ["browser"]  # the fixture, imported for this module's tests


async def test_the_portfolio_page_draws_the_api_figures(
    kafka_bootstrap: str, topics: Topics, database_url: str, tmp_path: Path, browser: WebDriver
) -> None:
    events = [*portfolio_events(), *account("evil", segment=HOSTILE, procurement=3, it=9)]
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, events)
    analyzer = analyzer_process(
        kafka_bootstrap, topics, database_url, tmp_path, "portfolio", ANALYZER_SWEEP_INTERVAL_S="0"
    )
    analyzer.start()
    try:
        view = await api(analyzer, "/v1/portfolio")
        assert view["accounts"] == 4
        browser.get(f"{analyzer.url}/dashboard/login")
        browser.find_element(By.ID, "key").send_keys(ANALYZER_KEY)
        browser.find_element(By.ID, "sign-in").click()
        wait_for(browser, lambda d: d.find_elements(By.LINK_TEXT, "Portfolio"), "the navigation")
        browser.find_element(By.LINK_TEXT, "Portfolio").click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "heat-map"), "the portfolio page")

        # The heat map: one cell per role and segment, each with the API's position and standard error.
        cells = browser.find_elements(By.CSS_SELECTOR, "#heat-map g.heat-cell")
        drawn = {(c.get_attribute("data-column"), c.get_attribute("data-row")): c for c in cells}
        segments = {c["segment"] for c in view["cells"]}
        roles = {c["role"] for c in view["cells"]}
        assert len(cells) == len(segments) * len(roles)
        for cell in view["cells"]:
            shown = drawn[(cell["segment"], cell["role"])].find_element(By.CSS_SELECTOR, "text")
            assert shown.text == f"{signed(cell['position'])} ±{cell['se']:.2f}"
        assert browser.title.startswith("Portfolio")  # the hostile segment ran nothing
        titles = [t.get_attribute("textContent") for t in browser.find_elements(By.CSS_SELECTOR, "g.heat-cell > title")]
        assert any(HOSTILE in (t or "") for t in titles)  # shown as text, in full
        assert not browser.find_elements(By.CSS_SELECTOR, "#heat-map img, main img")

        # The trend: a line per role; the quarters' gaps as the API counts them.
        trend = browser.find_element(By.CSS_SELECTOR, "#trend-chart svg")
        lines = {t.get_attribute("textContent") for t in trend.find_elements(By.CSS_SELECTOR, "g.series > title")}
        assert lines == {p["role"] for p in view["overall_trends"]}
        for gap in view["overall_gaps"]:
            row = f'#gap-trend tr[data-quarter="{gap["quarter"]}"] td'
            assert browser.find_elements(By.CSS_SELECTOR, row)[1].text == str(gap["split_accounts"])

        # Who is the low side, and what the low sides talk about.
        shares = {
            (r.get_attribute("data-segment"), r.get_attribute("data-role")): r.find_elements(By.CSS_SELECTOR, "td")[
                3
            ].text
            for r in browser.find_elements(By.CSS_SELECTOR, "#low-sides tbody tr")
        }
        assert shares == {(low["segment"], low["role"]): percent(low["share"]) for low in view["low_sides"]}
        assert browser.find_elements(By.CSS_SELECTOR, '#themes tr[data-segment="enterprise"][data-theme="effort"]')
        screenshot(browser, tmp_path / "dashboard-portfolio.png")

        # One segment: only its cells, and the CSV link keeps the filter.
        browser.find_element(By.CSS_SELECTOR, '#segment-filter input[value="mid-market"]').click()
        browser.find_element(By.CSS_SELECTOR, "#segment-filter button").click()
        wait_for(browser, lambda d: "segment=mid-market" in d.current_url, "the filtered page")
        columns = {c.get_attribute("data-column") for c in browser.find_elements(By.CSS_SELECTOR, "g.heat-cell")}
        assert columns == {"mid-market"}
        assert "segment=mid-market" in (browser.find_element(By.ID, "csv-link").get_attribute("href") or "")
        assert text(browser, ".page-head .sub").startswith("1 account(s)")
    finally:
        analyzer.stop()
