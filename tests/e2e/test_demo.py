"""``make demo`` against live services: a small seeded portfolio through ingest, Kafka and the analyzer.

The backtest the analyzer computes from what it stored must show what the generator planted: the
quietly splitting accounts flagged by divergence alerts well ahead of their renewal, the unhappy
ones by the classic NPS rule. Running the demo again changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.demo.__main__ import run
from bench.demo.generator import generate
from bench.demo.stack import Stack
from shared.settings import Topics
from tests.e2e.test_pipeline import analyzer_process
from tests.factories import ANALYZER_KEY, INGEST_KEY
from tests.harness.processes import ServiceProcess

pytestmark = pytest.mark.e2e
# Ten accounts: five healthy (one of them with an unhappy IT person), one unhappy, one splitting (lost),
# one whose decision makers cool, one with a silent decision maker, one recovering.
SEED = 1


async def test_the_demo_replays_a_portfolio_and_the_backtest_finds_what_was_planted(
    kafka_bootstrap: str,
    topics: Topics,
    ingest: ServiceProcess,
    database_url: str,
    tmp_path: Path,
) -> None:
    portfolio = generate(SEED, end=datetime.now(UTC).date(), accounts=10)
    plans = {plan.account_id: plan for plan in portfolio.accounts}
    analyzer = analyzer_process(kafka_bootstrap, topics, database_url, tmp_path, "analyzer")
    analyzer.start()
    stack = Stack(ingest.url, analyzer.url, INGEST_KEY, ANALYZER_KEY)
    try:
        lines = run(stack, portfolio, lookback_days=180, timeout_s=120)
        answer = stack.backtest(account_prefix=f"demo-{SEED}-", lookback_days=180)
        again = run(stack, portfolio, lookback_days=180, timeout_s=120)  # the same events: no effect
        assert stack.backtest(account_prefix=f"demo-{SEED}-", lookback_days=180) == answer
    finally:
        stack.close()
        analyzer.stop()

    printed = "\n".join(lines)
    assert again == lines
    assert all(account_id in printed for account_id in plans)
    assert "Backtest over 10 renewals" in printed
    assert "Coverage: " in printed
    # The recovering account's supplier made a plan on its split and marked it done, through the API.
    recovering = [a for a, p in plans.items() if p.archetype == "recovering"]
    assert recovering
    for account_id in recovering:
        assert f"  {account_id}  done  procurement-it gap " in printed

    planted = {o: sum(1 for p in plans.values() if p.outcome == o) for o in ("renewed", "downsized", "churned")}
    assert answer["outcomes"] == planted
    assert answer["renewals"] == 10
    rules = {rule["rule"]: rule for rule in answer["rules"]}
    for rule in rules.values():
        assert rule["caught"] + rule["missed"] == answer["bad_outcomes"]
        assert rule["caught"] + rule["false_alarms"] + rule["saves"] == rule["flagged"]
    leads = {d["account_id"]: d["lead_days"] for d in answer["detail"]}
    for account_id, plan in plans.items():
        if plan.archetype == "quietly_splitting":
            lead = leads[account_id]["any_divergence_alert"]
            assert lead is not None, f"{account_id} split without a divergence alert"
            assert lead >= 30, f"{account_id} was flagged only {lead} days before its renewal"
        if plan.archetype == "aligned_unhappy":
            assert leads[account_id]["nps_below_0"] is not None, f"{account_id}'s NPS never read below 0"
            assert leads[account_id]["renewal_risk"] is not None, f"{account_id} is unhappy without a renewal risk"
    splitting_lost = sum(1 for p in plans.values() if p.archetype == "quietly_splitting" and p.outcome != "renewed")
    assert rules["any_divergence_alert"]["caught"] >= splitting_lost == 1
    assert answer["recommended"] == "renewal_risk"
    assert rules["renewal_risk"]["kind"] == "risk_alert"
    # The risk 90 days before each renewal was recorded, so every renewal has a prediction to check.
    calibration = answer["calibration"]
    assert calibration["renewals"] == 10
    assert calibration["bad"] == answer["bad_outcomes"]
    assert sum(group["renewals"] for group in calibration["groups"]) == 10
    assert 0.0 <= calibration["brier"] <= 1.0
    # After the backtest, the portfolio's pattern table (as `feedback portfolio` prints it), from the same
    # stored state: the analyzer read the comments, and IT's in the splitting accounts are about effort.
    patterns = printed[printed.index("Portfolio patterns over the 10 accounts") :]
    assert printed.index("Backtest over 10 renewals") < printed.index("Portfolio patterns")
    header = patterns.splitlines()[2]
    assert header.split()[:3] == ["Segment", "Role", "Accounts"]
    assert header.endswith("Low side  Value at risk")
    says = [line for line in patterns.splitlines() if "low side says" in line]
    assert any("effort" in line for line in says)
