"""The supplier of the demo's recovering accounts: on the day it acts (the ``success_plan`` moment) it makes an
action plan on the account's open alert through the analyzer's API and marks it done, as a supplier would.

The events are split in two (pure): what happened up to each recovering account's action, then the rest;
the demo posts the first part, lets the supplier act, then posts the rest. Per account the analyzer sees
the same events in the same order as in one post, so nothing else in the demo changes; the plan is done
at the account's clock of the action day, which is where the backtest places it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from bench.demo.generator import SUPPLIER, Portfolio

ACTION_MOMENT: Final = "success_plan"
# The alert a supplier plans on first: the split the plan is about, then whatever else is open.
PREFERRED: Final = ("stakeholder_divergence", "divergence_widening", "masked_by_average", "renewal_risk")
STEPS: Final = ("Workshop with IT on the open tickets", "Agree an IT remediation plan with the sponsor")


@dataclass(frozen=True, slots=True)
class Phases:
    """The events up to each recovering account's action, the rest, and the accounts that act."""

    before: tuple[dict[str, Any], ...]
    after: tuple[dict[str, Any], ...]
    acting: tuple[str, ...]


def phases(portfolio: Portfolio) -> Phases:
    """Split the portfolio's events at each recovering account's action (its ``success_plan`` moment)."""
    acts = {
        e["account_id"]: e["occurred_at"]
        for e in portfolio.events
        if e.get("type") == "journey_moment" and e.get("moment") == ACTION_MOMENT
    }
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    for event in portfolio.events:
        act = acts.get(event["account_id"])
        # ISO-8601 UTC times of one format: their order is their text's order.
        (after if act is not None and event["occurred_at"] > act else before).append(event)
    return Phases(tuple(before), tuple(after), tuple(sorted(acts)))


def alert_to_plan(alerts: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The open alert a supplier plans on: the first of ``PREFERRED`` by type, None when none is open."""
    open_alerts = [a for a in alerts if a["status"] != "resolved" and a["type"] in PREFERRED]
    return min(open_alerts, key=lambda a: PREFERRED.index(a["type"]), default=None)


def plan_body(account_id: str) -> dict[str, Any]:
    """The plan the supplier makes."""
    return {
        "owner": SUPPLIER,
        "steps": list(STEPS),
        "note": f"agreed with {account_id}'s sponsor after the IT escalation",
        "by": SUPPLIER,
    }
