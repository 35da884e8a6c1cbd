"""The exit codes of ``feedback`` and the exceptions that carry them to ``main``.

Every failure a command expects is one of these exceptions; ``main`` prints its message on stderr
and exits with its code, so scripts can tell a refusal by the service from a service that is down.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """What the process's exit status means (docs/cli.md, "Exit codes")."""

    OK = 0
    SERVICE_ERROR = 1  # the service answered with an error (4xx or 5xx)
    USAGE = 2  # bad arguments or a missing API key; nothing was sent
    CANNOT_CONNECT = 3  # no answer: connection refused, unknown host, timeout
    INVALID_CONFIG = 4  # `config check` found settings a service would refuse
    INVALID_INPUT = 5  # an input file cannot be used (unreadable, bad rows); nothing was sent
    INTERRUPTED = 130  # Ctrl-C


class CliError(Exception):
    """An expected failure: a message for the operator and the exit code it maps to."""

    code: ExitCode = ExitCode.SERVICE_ERROR

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class UsageError(CliError):
    code = ExitCode.USAGE


class CannotConnect(CliError):
    code = ExitCode.CANNOT_CONNECT


class ServiceError(CliError):
    """The service answered with an error status; ``details`` holds its status and error body."""

    code = ExitCode.SERVICE_ERROR


class InvalidConfig(CliError):
    code = ExitCode.INVALID_CONFIG


class InvalidInput(CliError):
    code = ExitCode.INVALID_INPUT
