"""An action plan made and finished on the dashboard, in a real browser, closes the loop.

The divided account of the dashboard's scenario goes through ingest and Kafka to a live analyzer. In
headless Chromium a supplier signs in, makes a plan on the account's open split alert from the alerts
page, and marks it done. Finishing the plan asks the people on both sides of the split again (survey
requests with the reason ``plan_follow_up``); the account page shows the plan with its gap before; once
those people answer (through ingest), the page shows the gap after, the same sentence the API gives.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from shared.settings import Topics
from tests.dashboard import scenario
from tests.e2e.test_dashboard import api, browser, screenshot, text, wait_for
from tests.e2e.test_pipeline import analyzer_process, applied, post_batch
from tests.factories import ANALYZER_KEY, create_survey
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value

__all__ = ["browser"]  # the fixture, shared with the dashboard's main browser test

SPLIT = ("stakeholder_divergence", "masked_by_average", "divergence_widening")


async def test_a_plan_made_and_done_on_the_dashboard_shows_the_gap_before_and_after(
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
        "plans",
        ANALYZER_SWEEP_INTERVAL_S="0",
        ANALYZER_POLL_TIMEOUT_MS="100",
        # The scenario's people answered weeks ago: a follow-up may ask them again at once.
        SURVEY_REQUEST_MIN_INTERVAL_S="60",
    )
    analyzer.start()
    try:
        sent = 0
        for month in scenario.by_month([b for b in scenario.events() if b.get("account_id") == scenario.DIVIDED]):
            assert (await post_batch(ingest, month)).status_code == 202
            sent += len(month)
            await wait_for_value(partial(applied, analyzer), partial(operator.eq, sent), what="a month applied")
        alerts = await api(analyzer, "/v1/alerts", account_id=scenario.DIVIDED, limit=1000)
        split = next(a for a in alerts if a["type"] in SPLIT and a["status"] == "open")
        alert_id = split["alert_id"]

        browser.get(f"{analyzer.url}/dashboard/alerts?account_id={scenario.DIVIDED}")
        browser.find_element(By.ID, "key").send_keys(ANALYZER_KEY)
        browser.find_element(By.ID, "sign-in").click()
        row = f'tr[data-alert="{alert_id}"]'
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"{row} form.plan-new"), "the plan form")
        browser.find_element(By.CSS_SELECTOR, f'{row} form.plan-new input[name="owner"]').send_keys("Maria Lopez")
        steps = browser.find_element(By.CSS_SELECTOR, f'{row} form.plan-new textarea[name="steps"]')
        steps.send_keys("Joint review of the IT tickets\nQuarterly review with procurement and IT")
        browser.find_element(By.CSS_SELECTOR, f"{row} button.make-plan").click()
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"{row} .plan"), "the plan on its alert")

        [plan] = await api(analyzer, "/v1/plans", alert_id=alert_id)
        assert plan["owner"] == "Maria Lopez"
        assert plan["status"] == "planned"
        assert plan["steps"] == ["Joint review of the IT tickets", "Quarterly review with procurement and IT"]
        before = plan["outcome"]["before"]
        assert before is not None
        assert before["gap"] >= 0.5, "the plan records the split it was made on"

        card = f"#plan-{plan['plan_id']}"
        Select(browser.find_element(By.CSS_SELECTOR, f'{card} select[name="status"]')).select_by_value("done")
        browser.find_element(By.CSS_SELECTOR, f"{card} form.plan-status button").click()

        async def done() -> dict[str, Any]:
            [current] = await api(analyzer, "/v1/plans", alert_id=alert_id)
            return dict(current)

        finished = await wait_for_value(done, lambda p: p["status"] == "done", what="the plan done")
        follow_ups = [
            r
            for r in await api(analyzer, "/v1/survey-requests", account_id=scenario.DIVIDED)
            if r["reason"] == "plan_follow_up"
        ]
        asked = {r["role"] for r in follow_ups}
        assert asked == {before["high_role"], before["low_role"]}, follow_ups

        browser.get(f"{analyzer.url}/dashboard/accounts/{scenario.DIVIDED}")
        gap = f'#plans {card} [data-field="plan-gap"]'
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, gap), "the plan on the account page")
        assert text(browser, gap) == finished["outcome"]["summary"]

        # The people asked answer, closer together than before.
        now = datetime.now(UTC)
        answers = [
            create_survey(
                account_id=scenario.DIVIDED,
                stakeholder_id=r["stakeholder_id"],
                score=8,
                occurred_at=(now - timedelta(minutes=5 - n)).isoformat(),
                request_id=r["request_id"],
            )
            for n, r in enumerate(follow_ups)
        ]
        assert (await post_batch(ingest, answers)).status_code == 202
        sent += len(answers)
        await wait_for_value(partial(applied, analyzer), partial(operator.eq, sent), what="the follow-up answers")
        after = await wait_for_value(done, lambda p: p["outcome"]["after"] is not None, what="the gap after")
        browser.refresh()
        wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, gap), "the account page again")
        assert text(browser, gap) == after["outcome"]["summary"]
        assert after["outcome"]["summary"] != finished["outcome"]["summary"]
        screenshot(browser, tmp_path / "dashboard-plan.png")
    finally:
        analyzer.stop()
