"""``feedback people erase``: erase a person everywhere (GDPR Art. 17; docs/operations.md, "Erasure")."""

from __future__ import annotations

import argparse
import sys

from services.cli import output
from services.cli.client import segment
from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context
from services.cli.errors import UsageError

NAME = "people"
HELP = "erase a person from every account, the database and the events topic (analyzer)"


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``people erase``."""
    group = add_group(commands, NAME, HELP)
    cmd = add_command(
        group,
        "erase",
        erase,
        common,
        help="erase a person: answers, comments, names and ids, everywhere",
        description=(
            "Erase the person a stakeholder id or alias (e.g. an e-mail) names, in every account:\n"
            "their answers, comments, name and ids leave the database, their accounts are recomputed\n"
            "without them, and the keys sealing their records on the events topic are destroyed.\n"
            "It cannot be undone. Repeating it is harmless."
        ),
    )
    cmd.add_argument("stakeholder_id", metavar="ID_OR_EMAIL")
    cmd.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def erase(ctx: Context) -> int:
    """``DELETE /v1/stakeholders/{id}``, after a confirmation unless ``--yes``."""
    a = ctx.args
    if not a.yes:
        if not sys.stdin.isatty():
            raise UsageError("refusing to erase without confirmation: pass --yes")
        answer = input(f"Erase {a.stakeholder_id} from every account? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            output.note("nothing erased")
            return 0
    report = ctx.client("analyzer").call("DELETE", f"/v1/stakeholders/{segment(a.stakeholder_id)}")
    if ctx.json:
        output.emit_json(report)
        return 0
    counts = report["counts"]
    accounts = ", ".join(report["accounts"]) or "no account"
    print(
        f"erased ({report['erasure_id']}): {counts.get('people', 0)} directory entries in {accounts}, "
        f"{counts.get('answers', 0)} answers, {counts.get('unattributed', 0)} waiting answers, "
        f"{counts.get('keys_destroyed', 0)} data keys destroyed"
    )
    return 0
