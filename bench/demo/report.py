"""The demo's printed tables: each account with its alerts, the backtest, the portfolio's patterns (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from bench.demo.archetypes import ARCHETYPES
from bench.demo.generator import AccountPlan
from services.cli.commands.portfolio import view_lines

STORY_WIDTH = max(len(a.name) for a in ARCHETYPES)  # the story column fits the longest name
RULE_LABELS = {
    "renewal_risk": "renewal_risk (recommended)",
    "stakeholder_divergence": "stakeholder_divergence",
    "divergence_widening": "divergence_widening",
    "masked_by_average": "masked_by_average",
    "any_divergence_alert": "any divergence alert",
    "nps_below_0": "classic: NPS < 0",
    "nps_below_-20": "classic: NPS < -20 (at risk)",
}


def _signed(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def account_lines(plan: AccountPlan, view: dict[str, Any], alerts: Iterable[dict[str, Any]]) -> list[str]:
    """One account: its story and outcome, its NPS and divergence now, and every alert it raised."""
    lines = [
        f"{plan.account_id}  {plan.name:<22} {plan.segment:<10} {plan.archetype:<{STORY_WIDTH}} "
        f"renewal {plan.renewal} {plan.outcome:<9} NPS {_signed(view.get('nps'), '+.0f'):>4}  "
        f"divergence {_signed(view.get('divergence'), '.2f')}",
    ]
    for alert in alerts:
        opened = date.fromisoformat(alert["opened_as_of"][:10])
        days = (plan.renewal - opened).days
        when = f"{days} days before the renewal" if days >= 0 else f"{-days} days after the renewal"
        person = alert.get("metrics", {}).get("stakeholder_id")
        label = f"{alert['type']} ({person.split('@')[0]})" if person else alert["type"]
        lines.append(f"    {opened}  {label:<40} {alert['severity']:<8} {when}")
    return lines


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def backtest_lines(answer: dict[str, Any]) -> list[str]:
    """The ``GET /v1/backtest`` answer as a table."""
    outcomes = answer["outcomes"]
    lines = [
        f"Backtest over {answer['renewals']} renewals (renewed {outcomes['renewed']}, downsized "
        f"{outcomes['downsized']}, churned {outcomes['churned']}): a rule flags a renewal when it held at any "
        f"time in the {answer['lookback_days']} days before it.",
        "",
        f"{'rule':<30} {'flagged':>7} {'caught':>7} {'false alarms':>12} {'saves':>5} {'missed':>6} "
        f"{'precision':>9} {'recall':>6} {'median lead (days)':>18}",
    ]
    for rule in answer["rules"]:
        lead = rule["median_lead_days"]
        lines.append(
            f"{RULE_LABELS.get(rule['rule'], rule['rule']):<30} {rule['flagged']:>7} {rule['caught']:>7} "
            f"{rule['false_alarms']:>12} {rule['saves']:>5} {rule['missed']:>6} {_percent(rule['precision']):>9} "
            f"{_percent(rule['recall']):>6} {'n/a' if lead is None else f'{lead:.0f}':>18}"
        )
    lines.append(
        f"caught: churned or downsized renewals flagged (of {answer['bad_outcomes']}); false alarms: renewed "
        "accounts flagged; saves: renewed accounts flagged where a plan done in the window preceded the flag "
        "clearing; lead: first flag to the renewal, over the caught ones."
    )
    calibration = answer.get("calibration") or {}
    if calibration.get("brier") is not None:
        lines.append(
            f"Renewal risk {calibration['horizon_days']} days before each renewal: Brier {calibration['brier']:.3f} "
            f"over {calibration['renewals']} renewals (always the base rate: {calibration['brier_base_rate']:.3f})."
        )
    lines.append(
        "One seed is one portfolio: `make backtest` gives every rule's figures over 30 held-out seeds and an "
        "independent generator, with their spread."
    )
    return lines


def pattern_lines(view: dict[str, Any]) -> list[str]:
    """``GET /v1/portfolio`` as ``feedback portfolio`` prints it, under a heading that says what it is."""
    lines = [
        f"Portfolio patterns over the {view['accounts']} accounts the analyzer holds: each client role's mean "
        "position by segment (SE: its standard error), how often it is the low side of its account's widest gap, "
        "and the expected value at risk; then what drives the gaps and what the low side writes about, and the "
        "quarterly trend (`feedback portfolio`).",
        "",
        *view_lines(view),
    ]
    if view["truncated"]:
        lines.append(f"(only the first {view['accounts']} accounts were read)")
    return lines


def coverage_lines(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Decision makers heard recently, out of all, over the demo's accounts (``GET /v1/accounts``)."""
    found = [row["coverage"] for row in rows if row.get("coverage")]
    heard = sum(c["decision_makers_heard"] for c in found)
    total = sum(c["decision_makers"] for c in found)
    unheard = sum(1 for c in found if c["decision_makers_heard"] < c["decision_makers"])
    return [
        f"Coverage: {heard} of {total} decision makers heard recently across {len(found)} accounts; "
        f"{unheard} accounts have a decision maker unheard (the survey requests ask them next)."
    ]


def plan_lines(plans: Iterable[dict[str, Any]], loop: dict[str, Any]) -> list[str]:
    """The supplier's action plans with their before and after, and the portfolio's loop figures."""
    lines = ["Action plans (the recovering accounts' supplier, on the day it acted):"]
    listed = list(plans)
    for plan in listed:
        lines.append(f"  {plan['account_id']}  {plan['status']:<5} {plan['outcome']['summary']}")
    if not listed:
        lines.append("  (none)")
    share = loop.get("closed_share")
    lines.append(
        f"Loop: {loop['planned']} of {loop['alerts']} alerts planned, {loop['completed']} done, "
        f"{loop['recovered']} recovered; gap closed after a plan: {loop['closed']} of {loop['measured']} measured "
        f"({_percent(share)})."
    )
    return lines
