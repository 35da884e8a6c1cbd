"""How a command group plugs into the parser: a module with ``NAME``, ``HELP`` and ``register``.

A group adds its subcommands with ``add_command``; each subcommand names the handler that runs it.
A handler gets the invocation's ``Context`` and returns an exit code, or raises a ``CliError``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from services.cli.context import Context

Handler = Callable[[Context], int]
if TYPE_CHECKING:  # argparse's own (private) type, generic only to the type checker
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    SubParsers = argparse._SubParsersAction


class CommandGroup(Protocol):
    """What ``services/cli/commands/__init__.py`` expects of each module it lists."""

    NAME: str
    HELP: str

    def register(self, commands: SubParsers, common: argparse.ArgumentParser) -> None:
        """Add the group's subcommands to ``commands``, each with ``common`` as a parent parser."""


def add_command(
    commands: SubParsers,
    name: str,
    handler: Handler,
    common: argparse.ArgumentParser,
    *,
    help: str,
    description: str | None = None,
    aliases: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """A subcommand that runs ``handler``, with the shared connection and output options."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=help,
        description=description or help,
        aliases=list(aliases),
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def add_group(commands: SubParsers, name: str, help: str) -> SubParsers:
    """A command group (``feedback <name> ...``) and the sub-parsers its commands go in."""
    parser = commands.add_parser(name, help=help, description=help)
    group: SubParsers = parser.add_subparsers(title="commands", dest="command", required=True, metavar="<command>")
    return group
