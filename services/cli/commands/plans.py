"""``feedback plans``: action plans on alerts (make, list, show, change, note) and their before and after."""

from __future__ import annotations

import argparse
from typing import Any

from services.analyzer.plans.lifecycle import STATUSES
from services.cli import output
from services.cli.client import segment
from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context

NAME = "plans"
HELP = "action plans on alerts: owner, due date, steps, status, notes; the gap before and after (analyzer)"
COLUMNS = [
    output.field("PLAN", "plan_id"),
    output.field("ALERT", "alert_id"),
    output.field("ACCOUNT", "account_id"),
    output.field("OWNER"),
    output.field("DUE", "due_date"),
    output.field("STATUS"),
    output.field("CREATED", "created_at"),
]


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``plans list``, ``show``, ``create``, ``update`` and ``note``."""
    group = add_group(commands, NAME, HELP)
    list_cmd = add_command(group, "list", list_plans, common, help="action plans, newest first")
    list_cmd.add_argument("--account", dest="account_id", metavar="ACCOUNT_ID", help="only this account's plans")
    list_cmd.add_argument("--alert", dest="alert_id", metavar="ALERT_ID", help="only this alert's plans")
    list_cmd.add_argument("--status", choices=STATUSES, help="only plans in this status")
    list_cmd.add_argument("--limit", type=int, default=100, help="most rows (default 100)")
    list_cmd.add_argument("--offset", type=int, default=0, help="rows to skip")
    show_cmd = add_command(group, "show", show, common, help="one plan, its notes, and its gap before and after")
    show_cmd.add_argument("plan_id", metavar="PLAN_ID")
    create_cmd = add_command(
        group, "create", create, common, help="make a plan on an alert; subscribers hear action.created"
    )
    create_cmd.add_argument("alert_id", metavar="ALERT_ID")
    create_cmd.add_argument("--owner", required=True, help="who owns the plan")
    create_cmd.add_argument("--due", dest="due_date", metavar="YYYY-MM-DD", help="when it is due")
    create_cmd.add_argument("--step", dest="steps", action="append", default=[], help="a step (repeat for more)")
    create_cmd.add_argument("--note", help="a first progress note")
    create_cmd.add_argument("--by", help="who writes the note (default: the API key's id)")
    update_cmd = add_command(
        group,
        "update",
        update,
        common,
        help="change status, owner, due date or steps; done asks the alert's two sides again",
    )
    update_cmd.add_argument("plan_id", metavar="PLAN_ID")
    update_cmd.add_argument("--status", choices=STATUSES, help="the new status")
    update_cmd.add_argument("--owner", help="the new owner")
    update_cmd.add_argument("--due", dest="due_date", metavar="YYYY-MM-DD", help="the new due date")
    update_cmd.add_argument("--step", dest="steps", action="append", help="the steps, replacing them (repeat)")
    note_cmd = add_command(group, "note", note, common, help="add a progress note; subscribers hear action.updated")
    note_cmd.add_argument("plan_id", metavar="PLAN_ID")
    note_cmd.add_argument("text", metavar="TEXT")
    note_cmd.add_argument("--by", help="who writes it (default: the API key's id)")


def list_plans(ctx: Context) -> int:
    """``GET /v1/plans``."""
    a = ctx.args
    params = {
        "account_id": a.account_id,
        "alert_id": a.alert_id,
        "status": a.status,
        "limit": a.limit,
        "offset": a.offset,
    }
    rows = ctx.client("analyzer").call("GET", "/v1/plans", params=params)
    if ctx.json:
        output.emit_json(rows)
    else:
        output.table(rows, COLUMNS, empty="(no action plans)")
    return 0


def _print(plan: dict[str, Any]) -> None:
    output.fields(
        [
            ("plan", output.cell(plan["plan_id"])),
            ("alert", output.cell(plan["alert_id"])),
            ("account", output.cell(plan["account_id"])),
            ("owner", output.cell(plan["owner"])),
            ("due", output.cell(plan["due_date"])),
            ("status", output.cell(plan["status"])),
            ("gap", output.cell(plan["outcome"]["summary"])),
        ]
    )
    for n, step in enumerate(plan["steps"], 1):
        print(f"  step {n}: {output.cell(step)}")
    for entry in plan["notes"]:
        print(f"  note {entry['at']} {output.cell(entry['by'])}: {output.cell(entry['text'])}")


def _emit(ctx: Context, plan: dict[str, Any]) -> int:
    if ctx.json:
        output.emit_json(plan)
    else:
        _print(plan)
    return 0


def show(ctx: Context) -> int:
    """``GET /v1/plans/{id}``."""
    return _emit(ctx, ctx.client("analyzer").call("GET", f"/v1/plans/{segment(ctx.args.plan_id)}"))


def create(ctx: Context) -> int:
    """``POST /v1/alerts/{id}/plan``."""
    a = ctx.args
    body: dict[str, Any] = {"owner": a.owner, "due_date": a.due_date, "steps": a.steps, "note": a.note, "by": a.by}
    body = {k: v for k, v in body.items() if v is not None}
    return _emit(ctx, ctx.client("analyzer").call("POST", f"/v1/alerts/{segment(a.alert_id)}/plan", json=body))


def update(ctx: Context) -> int:
    """``PATCH /v1/plans/{id}``."""
    a = ctx.args
    body = {
        k: v
        for k, v in {"status": a.status, "owner": a.owner, "due_date": a.due_date, "steps": a.steps}.items()
        if v is not None
    }
    return _emit(ctx, ctx.client("analyzer").call("PATCH", f"/v1/plans/{segment(a.plan_id)}", json=body))


def note(ctx: Context) -> int:
    """``POST /v1/plans/{id}/notes``."""
    a = ctx.args
    body = {k: v for k, v in {"text": a.text, "by": a.by}.items() if v is not None}
    return _emit(ctx, ctx.client("analyzer").call("POST", f"/v1/plans/{segment(a.plan_id)}/notes", json=body))
