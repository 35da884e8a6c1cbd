"""``feedback``: parse the command line, run one command, map its outcome to an exit code."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from services.cli.commands import GROUPS
from services.cli.context import Context
from services.cli.errors import CliError, ExitCode

EPILOG = """\
exit codes:
  0  ok
  1  the service answered with an error (4xx or 5xx); its message is printed
  2  usage: bad arguments or no API key; nothing was sent
  3  cannot connect: connection refused, unknown host or timeout
  4  invalid configuration (config check)
  5  invalid input file (contacts import); nothing was sent
  130  interrupted (Ctrl-C)

URLs and keys: flags, else the environment, else .env: INGEST_URL / ANALYZER_URL (default
http://127.0.0.1:<INGEST_PORT|ANALYZER_PORT>), INGEST_API_KEY / ANALYZER_API_KEY, else the first of the
services' own INGEST_API_KEYS / ANALYZER_API_KEYS. See docs/cli.md.
"""


def common_options() -> argparse.ArgumentParser:
    """Options every command accepts, before or after its name.

    They default to "absent" (``SUPPRESS``) so that a sub-command's copy of an option never overwrites
    the value given before the sub-command's name; readers use ``getattr`` with their own default.
    """
    parser = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parser.add_argument_group("connection and output")
    group.add_argument("--analyzer-url", metavar="URL", help="analyzer base URL (or ANALYZER_URL)")
    group.add_argument("--ingest-url", metavar="URL", help="ingest base URL (or INGEST_URL)")
    group.add_argument("--analyzer-key", metavar="KEY", help="analyzer API key (prefer ANALYZER_API_KEY)")
    group.add_argument("--ingest-key", metavar="KEY", help="ingest API key (prefer INGEST_API_KEY)")
    group.add_argument("--env-file", metavar="PATH", help="the .env file to read, as the services do (default ./.env)")
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="per request (default 30)")
    group.add_argument("--json", action="store_true", help="print JSON instead of tables")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every group of ``GROUPS`` with its commands."""
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="feedback",
        description="Operate the stakeholder divergence services through their HTTP APIs.",
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups = parser.add_subparsers(title="command groups", dest="group", required=True, metavar="<group>")
    for group in GROUPS:
        group.register(groups, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the return value is the process's exit code (see ``EPILOG``)."""
    args = build_parser().parse_args(argv)  # exits with 2 on a usage error, as argparse does
    ctx = Context(args)
    try:
        return int(args.handler(ctx))
    except CliError as exc:
        report(ctx, exc)
        return int(exc.code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader stopped reading (`| head`): not a failure of the command. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)
    finally:
        ctx.close()


def report(ctx: Context, exc: CliError) -> None:
    """The failure on stderr: one line for people, or a JSON object with ``--json``."""
    if ctx.json:
        print(json.dumps({"error": exc.message, "exit_code": int(exc.code), **exc.details}), file=sys.stderr)
    else:
        print(f"feedback: error: {exc.message}", file=sys.stderr)
