"""``feedback links make``: mint the link token that lets a survey link answer as one person.

Offline: the token is signed here with ``SURVEY_LINK_SECRET`` (the environment or ``.env``, as ingest
reads it), nothing is sent. The supplier puts it in the survey link beside the account and stakeholder
ids (docs/vendors/, "Who answered"; docs/security.md, "Who may answer as whom").
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context
from services.cli.errors import UsageError
from services.cli.output import emit_json, fields
from shared import survey_links

NAME = "links"
HELP = "survey links: mint the signed token that lets a link answer as one person"


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``links make``."""
    group = add_group(commands, NAME, HELP)
    make = add_command(
        group,
        "make",
        run_make,
        common,
        help="mint a link token for an account and a person",
        description=(
            "Sign the account id, the stakeholder id (or the email the link names instead) and an expiry\n"
            "with SURVEY_LINK_SECRET, and print the token. Put it in the survey link's link_token\n"
            "(Typeform hidden field) or Link Token (Delighted property) beside the same ids; an answer\n"
            "through a link without a valid token is held as unverified and moves no position.\n"
            "One token per person and survey round: a link answers each question once."
        ),
    )
    make.add_argument("--account", required=True, metavar="ID", help="the account id the link names")
    make.add_argument("--person", required=True, metavar="ID", help="the stakeholder id (or email) the link names")
    make.add_argument("--ttl", default="30d", help="how long the link answers: 90m, 12h, 30d, 2w (default 30d)")


def run_make(ctx: Context) -> int:
    """Print the token (and its expiry); exit 2 without a usable secret or with bad arguments."""
    secret = ctx.lookup("SURVEY_LINK_SECRET")
    if secret is None:
        raise UsageError("SURVEY_LINK_SECRET is not set (environment or .env): it signs the link tokens")
    try:
        expires_at = datetime.now(UTC) + survey_links.parse_ttl(ctx.args.ttl)
        token = survey_links.mint(secret, ctx.args.account.strip(), ctx.args.person.strip(), expires_at)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if ctx.json:
        emit_json({"token": token, "expires_at": expires_at.isoformat(timespec="seconds")})
    else:
        fields([("token", token), ("expires_at", expires_at.isoformat(timespec="seconds"))])
    return 0
