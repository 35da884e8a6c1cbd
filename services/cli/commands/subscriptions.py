"""``feedback webhooks``: the analyzer's outbound webhook subscriptions (docs/webhooks.md)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, get_args

from services.analyzer.webhooks.schemas import EventType
from services.cli import output
from services.cli.client import segment
from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context
from services.cli.errors import UsageError

NAME = "webhooks"
HELP = "manage webhook subscriptions: list, show, create, delete, rotate-secret (analyzer)"
EVENT_TYPES: list[str] = list(get_args(EventType))
# Without --events a subscription gets the alert changes; survey requests are asked for by name.
ALERT_EVENT_TYPES = [t for t in EVENT_TYPES if t.startswith("alert.")]
COLUMNS = [
    output.field("ID"),
    output.field("STATUS"),
    output.field("URL"),
    output.field("EVENTS", "event_types"),
    output.field("ACCOUNTS", "account_ids"),
    output.field("SEGMENTS"),
    output.field("DESCRIPTION"),
]


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``webhooks list|show|create|delete|rotate-secret``."""
    group = add_group(commands, NAME, HELP)
    add_command(group, "list", list_subscriptions, common, help="every subscription (never with its secret)")
    show_cmd = add_command(group, "show", show, common, help="one subscription, with why it was disabled")
    show_cmd.add_argument("subscription_id", metavar="SUBSCRIPTION_ID")
    create_cmd = add_command(
        group,
        "create",
        create,
        common,
        help="subscribe a URL to alert events; prints the signing secret, shown only this once",
    )
    create_cmd.add_argument("url", metavar="URL", help="https URL of the receiver")
    create_cmd.add_argument(
        "--event",
        dest="events",
        action="append",
        choices=EVENT_TYPES,
        help="an event type to send (repeatable; default: the four alert events)",
    )
    create_cmd.add_argument("--account", dest="accounts", action="append", help="only this account (repeatable)")
    create_cmd.add_argument("--segment", dest="segments", action="append", help="only this segment (repeatable)")
    create_cmd.add_argument("--description", help="a note for people (up to 256 characters)")
    delete_cmd = add_command(group, "delete", delete, common, help="delete a subscription and its deliveries")
    delete_cmd.add_argument("subscription_id", metavar="SUBSCRIPTION_ID")
    delete_cmd.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rotate_cmd = add_command(
        group,
        "rotate-secret",
        rotate,
        common,
        help="a new signing secret (shown once); the old one keeps signing during the overlap",
    )
    rotate_cmd.add_argument("subscription_id", metavar="SUBSCRIPTION_ID")
    rotate_cmd.add_argument(
        "--overlap",
        type=float,
        metavar="SECONDS",
        help="how long the old secret keeps signing (default: the analyzer's WEBHOOK_SECRET_OVERLAP_S)",
    )


def list_subscriptions(ctx: Context) -> int:
    """``GET /v1/subscriptions``."""
    rows = ctx.client("analyzer").call("GET", "/v1/subscriptions")
    if ctx.json:
        output.emit_json(rows)
    else:
        output.table(rows, COLUMNS, empty="(no subscriptions)")
    return 0


def _print_subscription(view: dict[str, Any]) -> None:
    output.fields(
        [
            ("id", view["id"]),
            ("status", view["status"] + (f" ({view['disabled_reason']})" if view.get("disabled_reason") else "")),
            ("url", view["url"]),
            ("events", view.get("event_types")),
            ("accounts", view.get("account_ids") or "all"),
            ("segments", view.get("segments") or "all"),
            ("description", view.get("description")),
            ("failing since", view.get("failing_since")),
            ("created", view.get("created_at")),
        ]
    )


def show(ctx: Context) -> int:
    """``GET /v1/subscriptions/{id}``."""
    view = ctx.client("analyzer").call("GET", f"/v1/subscriptions/{segment(ctx.args.subscription_id)}")
    if ctx.json:
        output.emit_json(view)
    else:
        _print_subscription(view)
    return 0


def create(ctx: Context) -> int:
    """``POST /v1/subscriptions``; the API vets the URL (422 for a forbidden or malformed target)."""
    a = ctx.args
    body = {
        "url": a.url,
        "event_types": list(dict.fromkeys(a.events or ALERT_EVENT_TYPES)),
        "account_ids": a.accounts,
        "segments": a.segments,
        "description": a.description,
    }
    created = ctx.client("analyzer").call("POST", "/v1/subscriptions", json=body)
    if ctx.json:
        output.emit_json(created)
        return 0
    _print_subscription(created)
    print(f"secret         {created['secret']}")
    output.note("Store the secret now: the analyzer never shows it again (rotate-secret makes a new one).")
    return 0


def delete(ctx: Context) -> int:
    """``DELETE /v1/subscriptions/{id}``, after a confirmation unless ``--yes``."""
    a = ctx.args
    if not a.yes:
        if not sys.stdin.isatty():
            raise UsageError("refusing to delete without confirmation: pass --yes")
        answer = input(f"Delete subscription {a.subscription_id} and its deliveries? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            output.note("nothing deleted")
            return 0
    ctx.client("analyzer").call("DELETE", f"/v1/subscriptions/{segment(a.subscription_id)}")
    if ctx.json:
        output.emit_json({"id": a.subscription_id, "deleted": True})
    else:
        print(f"deleted {a.subscription_id}")
    return 0


def rotate(ctx: Context) -> int:
    """``POST /v1/subscriptions/{id}/rotate-secret``."""
    a = ctx.args
    body = {"overlap_seconds": a.overlap} if a.overlap is not None else None
    rotated = ctx.client("analyzer").call(
        "POST", f"/v1/subscriptions/{segment(a.subscription_id)}/rotate-secret", json=body
    )
    if ctx.json:
        output.emit_json(rotated)
        return 0
    output.fields(
        [
            ("id", rotated["id"]),
            ("secret", rotated["secret"]),
            ("old secret signs until", rotated.get("previous_secret_expires_at") or "no longer"),
        ]
    )
    output.note("Store the new secret now: the analyzer never shows it again.")
    return 0
