"""``feedback portfolio``: patterns across the portfolio, as tables, JSON or CSV (docs/cli.md)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from services.cli import output
from services.cli.client import service_error
from services.cli.commands.base import SubParsers, add_command
from services.cli.context import Context
from services.cli.errors import UsageError

NAME = "portfolio"
HELP = "patterns across the portfolio: roles by segment, low sides, drivers, value at risk (analyzer)"
NO_SEGMENT = "(none)"


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``portfolio`` (a command of its own, no subcommands)."""
    cmd = add_command(
        commands,
        NAME,
        show,
        common,
        help=HELP,
        description=(
            "Each client role's mean position per segment with its standard error, how often it is the low\n"
            "side of its account's widest gap, the dimensions and themes behind the gaps, the value at risk\n"
            "and the quarterly trend (docs/model.md, Portfolio)."
        ),
    )
    cmd.add_argument("--segment", action="append", default=[], help="only this segment (repeatable)")
    cmd.add_argument("--limit", type=int, default=500, help="most accounts read, by id (default 500, at most 1000)")
    cmd.add_argument("--quarters", type=int, default=4, help="quarters of the trend, 1 to 8 (default 4)")
    cmd.add_argument("--csv", action="store_true", help="print every figure as CSV (GET /v1/portfolio.csv)")


def pattern_rows(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per segment and role: position, standard error, how often low, and value at risk."""
    lows = {(r["segment"], r["role"]): r for r in view["low_sides"]}
    splits = {r["segment"]: r["split_accounts"] for r in view["low_sides"]}
    at_risk = {(r["segment"], r["role"]): r["value_at_risk"] for r in view["value_at_risk"]}
    rows = []
    for cell in view["cells"]:
        key = (cell["segment"], cell["role"])
        low = lows.get(key)
        split = splits.get(cell["segment"], 0)
        rows.append(
            {
                "segment": cell["segment"] or NO_SEGMENT,
                "role": cell["role"],
                "accounts": cell["accounts"],
                "position": cell["position"],
                "se": None if cell["se"] is None else f"{cell['se']:.2f}",
                "low_side": f"{low['low_in'] if low else 0}/{split}" if split else None,
                "value_at_risk": None if key not in at_risk else f"{at_risk[key]:,.0f}",
            }
        )
    return rows


def driver_lines(view: Mapping[str, Any], *, most: int = 3) -> list[str]:
    """Per segment, its top dimensions and low-side themes, e.g. "enterprise: support +0.80 (2); effort 2"."""
    segments: dict[Any, tuple[list[str], list[str]]] = {}
    for d in view["dimensions"]:
        dims, _ = segments.setdefault(d["segment"], ([], []))
        if len(dims) < most:
            dims.append(f"{d['dimension']} {d['mean_gap']:+.2f} ({d['accounts']})")
    for t in view["themes"]:
        _, themes = segments.setdefault(t["segment"], ([], []))
        if len(themes) < most:
            themes.append(f"{t['theme']} {t['accounts']}")
    return [
        output.cell(
            f"{segment or NO_SEGMENT}: gaps on {', '.join(dims) or '-'}; low side says {', '.join(themes) or '-'}"
        )
        for segment, (dims, themes) in segments.items()
    ]


def trend_rows(view: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The whole selection per quarter: the mean widest gap, and each role's mean position."""
    roles = sorted({p["role"] for p in view["overall_trends"]})
    positions = {(p["quarter"], p["role"]): p["position"] for p in view["overall_trends"]}
    return [
        {
            "quarter": g["quarter"],
            "split_accounts": g["split_accounts"],
            "mean_gap": g["mean_gap"],
            "most_often_low": g["most_often_low"],
            **{role: positions.get((g["quarter"], role)) for role in roles},
        }
        for g in view["overall_gaps"]
    ]


def view_lines(view: Mapping[str, Any]) -> list[str]:
    """The pattern table, the drivers and the trend, for people (``make demo`` prints them too)."""
    columns: Sequence[output.Column] = [
        output.field("Segment"),
        output.field("Role"),
        output.field("Accounts"),
        output.field("Position"),
        output.field("SE", "se"),
        output.field("Low side", "low_side"),
        output.field("Value at risk", "value_at_risk"),
    ]
    lines = output.table_lines(pattern_rows(view), columns, empty="(no account the model holds)")
    drivers = driver_lines(view)
    if drivers:
        lines += ["", *drivers]
    trend = trend_rows(view)
    if trend:
        roles = [k for k in trend[0] if k not in {"quarter", "split_accounts", "mean_gap", "most_often_low"}]
        lines.append("")
        lines += output.table_lines(
            trend,
            [
                output.field("Quarter"),
                output.field("Split", "split_accounts"),
                output.field("Mean gap", "mean_gap"),
                output.field("Most often low", "most_often_low"),
                *(output.field(role, role) for role in roles),
            ],
        )
    return lines


def print_view(view: Mapping[str, Any]) -> None:
    """``view_lines`` on stdout; a note on stderr when the selection was cut at the limit."""
    for line in view_lines(view):
        print(line)
    if view["truncated"]:
        output.note(f"only the first {view['accounts']} accounts were read: raise --limit")


def show(ctx: Context) -> int:
    """``GET /v1/portfolio`` (``GET /v1/portfolio.csv`` with ``--csv``)."""
    a = ctx.args
    if a.csv and ctx.json:
        raise UsageError("--csv and --json are exclusive: choose one")
    params: dict[str, Any] = {"segment": a.segment, "limit": a.limit, "quarters": a.quarters}
    client = ctx.client("analyzer")
    if a.csv:
        response = client.send("GET", "/v1/portfolio.csv", params=params)
        if not response.is_success:
            raise service_error("analyzer", response)
        print(response.text, end="")
        return 0
    view: dict[str, Any] = client.call("GET", "/v1/portfolio", params=params)
    if ctx.json:
        output.emit_json(view)
        return 0
    print_view(view)
    return 0
