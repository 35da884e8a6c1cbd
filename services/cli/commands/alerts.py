"""``feedback alerts``: list alerts, acknowledge and resolve them (who did it, and why)."""

from __future__ import annotations

import argparse
from typing import Any

from services.analyzer.model.alerts import AlertStatus
from services.cli import output
from services.cli.client import segment
from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context

NAME = "alerts"
HELP = "list, acknowledge and resolve alerts (analyzer)"
COLUMNS = [
    output.field("ALERT", "alert_id"),
    output.field("TYPE"),
    output.field("SEVERITY"),
    output.field("STATUS"),
    output.field("ACCOUNT", "account_id"),
    output.field("CREATED", "created_at"),
    output.field("SUMMARY"),
]


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``alerts list``, ``alerts ack`` and ``alerts resolve``."""
    group = add_group(commands, NAME, HELP)
    list_cmd = add_command(group, "list", list_alerts, common, help="alerts, newest first")
    list_cmd.add_argument("--status", choices=[s.value for s in AlertStatus], help="only alerts in this status")
    list_cmd.add_argument("--account", dest="account_id", metavar="ACCOUNT_ID", help="only this account's alerts")
    list_cmd.add_argument("--type", help="only alerts of this type, e.g. stakeholder_divergence")
    list_cmd.add_argument("--limit", type=int, default=100, help="most rows (default 100)")
    list_cmd.add_argument("--offset", type=int, default=0, help="rows to skip")
    for name, aliases, verb in (("ack", ["acknowledge"], "acknowledge"), ("resolve", [], "resolve")):
        cmd = add_command(
            group,
            name,
            change,
            common,
            aliases=aliases,
            help=f"{verb} an alert; subscribers of alert.{verb}d webhooks are told",
        )
        cmd.set_defaults(action=verb)
        cmd.add_argument("alert_id", metavar="ALERT_ID")
        cmd.add_argument("--by", required=True, help="who does it (kept with the alert, e.g. an e-mail address)")
        cmd.add_argument("--note", help="why, or what was done (up to 4000 characters)")


def list_alerts(ctx: Context) -> int:
    """``GET /v1/alerts``."""
    a = ctx.args
    rows = ctx.client("analyzer").call(
        "GET",
        "/v1/alerts",
        params={"status": a.status, "account_id": a.account_id, "type": a.type, "limit": a.limit, "offset": a.offset},
    )
    if ctx.json:
        output.emit_json(rows)
    else:
        output.table(rows, COLUMNS, empty="(no alerts)")
    return 0


def change(ctx: Context) -> int:
    """``POST /v1/alerts/{id}/acknowledge`` or ``/resolve``."""
    a = ctx.args
    body: dict[str, Any] = {"by": a.by, "note": a.note}
    record = ctx.client("analyzer").call("POST", f"/v1/alerts/{segment(a.alert_id)}/{a.action}", json=body)
    if ctx.json:
        output.emit_json(record)
        return 0
    line = f"{record['alert_id']} is now {record['status']} (by {a.by})"
    if record.get("time_to_acknowledge_s") is not None:
        line += f"; acknowledged {record['time_to_acknowledge_s']:.0f}s after it opened"
    print(line)
    return 0
