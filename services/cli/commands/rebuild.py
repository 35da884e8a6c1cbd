"""``feedback rebuild``: replay the events topic into a fresh database (the recovery path).

Unlike the other commands it talks to Kafka and the database directly, with the analyzer's own
settings (``DATABASE_URL`` names the fresh database, ``KAFKA_BOOTSTRAP_SERVERS`` the broker), since
the analyzer it rebuilds for is not running.
"""

from __future__ import annotations

import argparse

from services.cli.commands.base import SubParsers, add_command
from services.cli.context import Context
from services.cli.errors import ExitCode, InvalidConfig

NAME = "rebuild"
HELP = "replay the events topic into a fresh database (after losing the analyzer's database)"


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``rebuild``."""
    cmd = add_command(
        commands,
        NAME,
        run,
        common,
        help=HELP,
        description=(
            "Replay every record of the events topic, from the beginning, into the database that\n"
            "DATABASE_URL names (migrated first; it must hold no processed events), with the same\n"
            "processing as the live analyzer. Joins no consumer group, publishes nothing and sends no\n"
            "webhook. Stop the analyzers first. Progress goes to stderr. See docs/operations.md."
        ),
    )
    cmd.add_argument(
        "--allow-partial",
        action="store_true",
        help="rebuild even if retention deleted the topic's oldest events (the result then misses them)",
    )
    cmd.add_argument(
        "--batch-records",
        type=_positive,
        default=None,
        metavar="N",
        # The default is services/analyzer/rebuild.py's DEFAULT_BATCH_RECORDS (not imported here: the
        # command line starts without loading the analyzer).
        help="records applied per transaction (default 5,000; larger is faster and holds more in memory)",
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def run(ctx: Context) -> int:
    """Build the analyzer's settings and rebuild; exit 1 when refused or failed."""
    from pydantic import ValidationError

    from services.analyzer.rebuild_command import run_rebuild
    from services.analyzer.settings import AnalyzerSettings

    try:
        settings = AnalyzerSettings(_env_file=ctx.env_file)
    except ValidationError as exc:
        raise InvalidConfig(f"the analyzer's settings are invalid: {exc}") from exc
    code = run_rebuild(
        settings, allow_partial=ctx.args.allow_partial, quiet=ctx.quiet, batch_records=ctx.args.batch_records
    )
    return ExitCode.OK if code == 0 else ExitCode.SERVICE_ERROR
