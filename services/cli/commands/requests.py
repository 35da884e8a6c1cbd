"""``feedback requests``: the survey requests the analyzer made, and an account's coverage."""

from __future__ import annotations

import argparse
from typing import Any

from services.analyzer.requests.schemas import RequestStatus
from services.cli import output
from services.cli.client import segment
from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context

NAME = "requests"
HELP = "survey requests: whom to ask and why; an account's coverage (analyzer)"
STATUSES = [s.value for s in RequestStatus]


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``requests list`` and ``requests coverage``."""
    group = add_group(commands, NAME, HELP)
    list_cmd = add_command(group, "list", list_requests, common, help="survey requests, newest first")
    list_cmd.add_argument("--account", dest="account_id", help="only this account")
    list_cmd.add_argument("--stakeholder", dest="stakeholder_id", help="only this person")
    list_cmd.add_argument("--status", choices=STATUSES, help="only requests in this status")
    list_cmd.add_argument("--limit", type=int, default=100, help="most rows (default 100)")
    list_cmd.add_argument("--offset", type=int, default=0, help="rows to skip")
    coverage_cmd = add_command(
        group,
        "coverage",
        coverage,
        common,
        help="who in an account was heard and how recently; response rates by role and by moment",
    )
    coverage_cmd.add_argument("account_id", metavar="ACCOUNT_ID")


def list_requests(ctx: Context) -> int:
    """``GET /v1/survey-requests``."""
    a = ctx.args
    params = {
        "account_id": a.account_id,
        "stakeholder_id": a.stakeholder_id,
        "status": a.status,
        "limit": a.limit,
        "offset": a.offset,
    }
    rows = ctx.client("analyzer").call("GET", "/v1/survey-requests", params=params)
    if ctx.json:
        output.emit_json(rows)
        return 0
    output.table(
        rows,
        [
            output.field("REQUEST", "request_id"),
            output.field("ACCOUNT", "account_id"),
            output.field("STAKEHOLDER", "stakeholder_id"),
            output.field("ROLE"),
            output.field("MOMENT"),
            output.field("REASON"),
            output.field("STATUS"),
            output.field("CREATED", "created_at"),
        ],
        empty="(no survey requests)",
    )
    return 0


def _rate(tally: dict[str, Any]) -> str | None:
    rate = tally.get("response_rate")
    return None if rate is None else f"{rate:.0%}"


def coverage(ctx: Context) -> int:
    """``GET /v1/accounts/{id}/coverage``."""
    view: dict[str, Any] = ctx.client("analyzer").call("GET", f"/v1/accounts/{segment(ctx.args.account_id)}/coverage")
    if ctx.json:
        output.emit_json(view)
        return 0
    totals = view["requests"]
    output.fields(
        [
            ("account", view["account_id"]),
            ("heard within", f"{view['heard_within_days']:g} days"),
            ("decision makers heard", f"{view['decision_makers_heard']} of {len(view['decision_makers'])}"),
            ("requests", f"{totals['asked']} ({totals['fulfilled']} fulfilled, {totals['pending']} pending)"),
            ("response rate", _rate(totals)),
            ("as of", view["as_of"]),
        ]
    )
    print("\nroles:")
    output.table(
        view["roles"],
        [
            output.field("ROLE"),
            output.field("PEOPLE"),
            output.field("HEARD"),
            output.field("LAST HEARD", "last_heard_at"),
            ("ASKED", lambda row: row["requests"]["asked"]),
            ("RESPONSE RATE", lambda row: _rate(row["requests"])),
        ],
        empty="(no client roles)",
    )
    print("\ndecision makers:")
    output.table(
        view["decision_makers"],
        [
            output.field("STAKEHOLDER", "stakeholder_id"),
            output.field("ROLE"),
            output.field("LAST HEARD", "last_heard_at"),
            output.field("HEARD"),
            output.field("CONTACTABLE"),
        ],
        empty="(no decision makers)",
    )
    print("\nmoments:")
    output.table(
        view["moments"],
        [
            output.field("MOMENT"),
            ("ASKED", lambda row: row["requests"]["asked"]),
            ("FULFILLED", lambda row: row["requests"]["fulfilled"]),
            ("RESPONSE RATE", lambda row: _rate(row["requests"])),
        ],
        empty="(nobody asked yet)",
    )
    return 0
