"""The demo's supplier (pure parts): where the events are cut per recovering account, and which alert it plans on."""

from __future__ import annotations

from datetime import date

from bench.demo.generator import generate
from bench.demo.supplier import ACTION_MOMENT, alert_to_plan, phases


def test_each_recovering_account_is_cut_at_its_action_and_nothing_is_lost_or_reordered() -> None:
    portfolio = generate(1, end=date(2026, 12, 1), accounts=10)
    split = phases(portfolio)
    recovering = sorted(p.account_id for p in portfolio.accounts if p.archetype == "recovering")
    assert list(split.acting) == recovering
    assert recovering  # seed 1 has one
    assert sorted(e["event_id"] for e in (*split.before, *split.after)) == sorted(
        e["event_id"] for e in portfolio.events
    )
    for account_id in recovering:
        [act] = [e for e in split.before if e["account_id"] == account_id and e.get("moment") == ACTION_MOMENT]
        assert all(e["occurred_at"] <= act["occurred_at"] for e in split.before if e["account_id"] == account_id)
        assert all(e["occurred_at"] > act["occurred_at"] for e in split.after if e["account_id"] == account_id)
    # Only recovering accounts wait for the second post; each account keeps its events' order.
    assert {e["account_id"] for e in split.after} <= set(recovering)
    for part in (split.before, split.after):
        for account_id in {e["account_id"] for e in part}:
            mine = [e for e in portfolio.events if e["account_id"] == account_id and e in part]
            assert mine == [e for e in part if e["account_id"] == account_id]


def test_the_supplier_plans_on_the_split_first_and_never_on_a_resolved_alert() -> None:
    alerts = [
        {"alert_id": "r", "type": "renewal_risk", "status": "open"},
        {"alert_id": "d", "type": "stakeholder_divergence", "status": "acknowledged"},
        {"alert_id": "old", "type": "stakeholder_divergence", "status": "resolved"},
        {"alert_id": "s", "type": "silent_stakeholder", "status": "open"},
    ]
    assert alert_to_plan(alerts)["alert_id"] == "d"  # type: ignore[index]
    assert alert_to_plan(alerts[:1])["alert_id"] == "r"  # type: ignore[index]
    assert alert_to_plan(alerts[2:]) is None
