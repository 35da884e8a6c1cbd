"""``feedback accounts``: one account in full, or the accounts ranked by divergence."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from services.cli import output
from services.cli.client import segment
from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context

NAME = "accounts"
HELP = "show an account, list accounts by divergence (analyzer)"
# The orders GET /v1/accounts accepts.
ORDERS = ["divergence", "account_mean", "nps", "risk", "value_at_risk", "account_id"]


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``accounts show`` and ``accounts list``."""
    group = add_group(commands, NAME, HELP)
    show_cmd = add_command(
        group, "show", show, common, help="one account: its single score beside each role's and person's position"
    )
    show_cmd.add_argument("account_id", metavar="ACCOUNT_ID")
    list_cmd = add_command(group, "list", list_accounts, common, help="accounts, widest divergence first")
    list_cmd.add_argument("--segment", help="only accounts of this segment")
    list_cmd.add_argument(
        "--order",
        choices=ORDERS,
        default="divergence",
        help="sort key (largest first; risk: renewal-risk probability; value_at_risk: risk x annual value)",
    )
    list_cmd.add_argument("--limit", type=int, default=100, help="most rows (default 100)")
    list_cmd.add_argument("--offset", type=int, default=0, help="rows to skip")
    verbatims_cmd = add_command(
        group, "verbatims", verbatims, common, help="what each role says: themes, tone and latest comments"
    )
    verbatims_cmd.add_argument("account_id", metavar="ACCOUNT_ID")
    verbatims_cmd.add_argument("--quotes", type=int, default=5, help="latest comments per role, 0 to 50 (default 5)")


def show(ctx: Context) -> int:
    """``GET /v1/accounts/{id}``."""
    view: dict[str, Any] = ctx.client("analyzer").call("GET", f"/v1/accounts/{segment(ctx.args.account_id)}")
    if ctx.json:
        output.emit_json(view)
        return 0
    gap = view.get("widest_gap")
    output.fields(
        [
            ("account", view["account_id"] + (f" ({view['name']})" if view.get("name") else "")),
            ("segment", view.get("segment")),
            ("renewal date", view.get("renewal_date")),
            ("annual value", view.get("annual_value")),
            ("account mean", view.get("account_mean")),
            ("NPS", view.get("nps")),
            ("divergence", view.get("divergence")),
            ("widest gap", f"{gap['high_role']} vs {gap['low_role']}" if gap else None),
            ("trend", view.get("trend")),
            ("open alerts", view.get("open_alerts")),
            ("as of", view.get("as_of")),
        ]
    )
    for title, key in (("client roles", "roles"), ("supplier roles", "supplier_roles")):
        if view.get(key):
            print(f"\n{title}:")
            output.table(
                view[key],
                [output.field(name) for name in ("ROLE", "POSITION", "CONFIDENCE", "STAKEHOLDERS")],
            )
    print("\nstakeholders:")
    output.table(
        view.get("stakeholders", []),
        [
            output.field("STAKEHOLDER", "stakeholder_id"),
            output.field("NAME"),
            output.field("ROLE"),
            output.field("SIDE"),
            output.field("POSITION"),
            output.field("CONFIDENCE"),
            output.field("RESPONSES"),
            output.field("LAST RESPONSE", "last_response_at"),
        ],
    )
    return 0


def _heard(row: Mapping[str, Any]) -> str | None:
    """``heard/all`` decision makers, e.g. ``1/3``; None (a dash) for an account without decision makers."""
    found = row.get("coverage")
    return None if found is None else f"{found['decision_makers_heard']}/{found['decision_makers']}"


def list_accounts(ctx: Context) -> int:
    """``GET /v1/accounts``."""
    a = ctx.args
    rows = ctx.client("analyzer").call(
        "GET",
        "/v1/accounts",
        params={"segment": a.segment, "order": a.order, "limit": a.limit, "offset": a.offset},
    )
    if ctx.json:
        output.emit_json(rows)
        return 0
    output.table(
        rows,
        [
            output.field("ACCOUNT", "account_id"),
            output.field("NAME"),
            output.field("SEGMENT"),
            output.field("RENEWAL", "renewal_date"),
            output.field("MEAN", "account_mean"),
            output.field("NPS"),
            output.field("DIVERGENCE"),
            ("RISK", lambda row: None if row.get("risk") is None else f"{row['risk']:.0%}"),
            ("VALUE AT RISK", lambda row: None if row.get("value_at_risk") is None else f"{row['value_at_risk']:.0f}"),
            output.field("OPEN ALERTS", "open_alerts"),
            ("DECIDERS HEARD", _heard),
        ],
        empty="(no accounts)",
    )
    return 0


def _themes(role: dict[str, Any]) -> str:
    return ", ".join(f"{t['theme']} {t['count']} ({t['sentiment']})" for t in role.get("themes", [])) or "none"


def verbatims(ctx: Context) -> int:
    """``GET /v1/accounts/{id}/verbatims``."""
    a = ctx.args
    body: dict[str, Any] = ctx.client("analyzer").call(
        "GET", f"/v1/accounts/{segment(a.account_id)}/verbatims", params={"quotes": a.quotes}
    )
    if ctx.json:
        output.emit_json(body)
        return 0
    if not body["roles"]:
        print("(no comments)")
    for i, role in enumerate(body["roles"]):
        count = f"{role['comments']} comment{'' if role['comments'] == 1 else 's'}"
        header = f"{output.cell(role['role'])} ({output.cell(role['side'])}): {count}"
        print(("\n" if i else "") + f"{header}, {role['sentiment']} ({role['polarity']:+.2f})")
        print(f"themes: {output.cell(_themes(role))}")
        output.table(
            role["quotes"],
            [
                output.field("AT"),
                output.field("STAKEHOLDER", "stakeholder_id"),
                output.field("TONE", "sentiment"),
                output.field("THEMES"),
                output.field("COMMENT", "text"),
            ],
            empty="(no quotes asked for)",
        )
    return 0
