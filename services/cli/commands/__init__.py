"""The command groups of ``feedback``, registered here and nowhere else.

A new group is one module with ``NAME``, ``HELP`` and ``register`` (``commands/base.py``) and one
entry in ``GROUPS``; the parser, ``--help`` and the exit codes come with it.
"""

from __future__ import annotations

from services.cli.commands import (
    accounts,
    alerts,
    config,
    contacts,
    links,
    people,
    plans,
    portfolio,
    rebuild,
    requests,
    risk,
    subscriptions,
)
from services.cli.commands.base import CommandGroup

GROUPS: tuple[CommandGroup, ...] = (
    accounts,
    alerts,
    plans,
    subscriptions,
    contacts,
    links,
    people,
    requests,
    portfolio,
    rebuild,
    risk,
    config,
)
