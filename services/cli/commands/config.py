"""``feedback config check``: the settings each service would start with, secrets masked, validated.

The settings are built exactly as the services build them (the same pydantic-settings classes, the
same environment and ``.env``), so a value the service would refuse is refused here, with the
variable's name. Beyond what the classes enforce, the check refuses an unknown ``LOG_LEVEL`` (the
services stop on it at start) and warns about what starts but is probably wrong: no API keys, a
webhook lease shorter than the request timeout, variables that look like settings but are none.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dotenv import dotenv_values

from services.cli import output
from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context
from services.cli.errors import ExitCode

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

NAME = "config"
HELP = "check the configuration the services would use (settings, secrets masked)"
SERVICES = ("ingest", "analyzer")
MASK = "**********"
# Prefixes of the services' variables, to catch a misspelt one (pydantic-settings ignores unknown names).
SETTING_PREFIXES = (
    "INGEST_",
    "ANALYZER_",
    "KAFKA_",
    "WEBHOOK_",
    "TOPICS",
    "THRESHOLDS",
    "EVENT_TIME_",
    "MODEL_",
    "PERSONAL_DATA_",
)
# The command line's own variables, which share those prefixes.
CLI_VARIABLES = {"INGEST_URL", "ANALYZER_URL", "INGEST_API_KEY", "ANALYZER_API_KEY"}


@dataclass
class Report:
    """One service's verdict: its settings as rows, errors that stop it, warnings that do not."""

    service: str
    settings: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """The service would start with these settings."""
        return not self.errors


def settings_class(service: str) -> type[BaseSettings]:
    """The settings class of ``service``, imported only when a check runs (it pulls in the model)."""
    if service == "ingest":
        from services.ingest.settings import IngestSettings

        return IngestSettings
    from services.analyzer.settings import AnalyzerSettings

    return AnalyzerSettings


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``config check``."""
    group = add_group(commands, NAME, HELP)
    cmd = add_command(
        group,
        "check",
        check,
        common,
        help="print the effective settings of ingest and analyzer (secrets masked) and validate them",
        description=(
            "Print the effective settings of ingest and analyzer, as they would read them from the\n"
            "environment and .env (--env-file), with secrets masked and each value's source, and\n"
            f"validate them. Exit {ExitCode.INVALID_CONFIG.value} when a service would refuse to start "
            "(or, with --strict, on any warning)."
        ),
    )
    cmd.add_argument("--service", choices=[*SERVICES, "all"], default="all", help="which service (default all)")
    cmd.add_argument("--strict", action="store_true", help="treat warnings as errors")


def check(ctx: Context) -> int:
    """Build each service's settings, print them, and exit non-zero when any is invalid."""
    names = list(SERVICES) if ctx.args.service == "all" else [ctx.args.service]
    sources = Sources(ctx.env_file)
    reports = [inspect(name, sources) for name in names]
    unknown = sources.unknown_variables()
    for report in reports:
        report.warnings += unknown
    failed = [r for r in reports if r.errors or (ctx.args.strict and r.warnings)]
    if ctx.json:
        output.emit_json(
            {
                "env_file": str(ctx.env_file) if ctx.env_file else None,
                "valid": not failed,
                "services": {
                    r.service: {"valid": r.valid, "settings": r.settings, "errors": r.errors, "warnings": r.warnings}
                    for r in reports
                },
            }
        )
    else:
        print(f"environment file: {ctx.env_file or '(none)'}")
        for report in reports:
            print(f"\n{report.service}: {'valid' if report.valid else 'INVALID'}")
            if report.settings:
                columns = [output.field("SETTING"), output.field("VALUE"), output.field("SOURCE")]
                output.table(report.settings, columns)
            for line in report.errors:
                print(f"  error: {line}")
            for line in report.warnings:
                print(f"  warning: {line}")
    if failed:
        output.note(
            "configuration invalid for "
            + ", ".join(r.service for r in failed)
            + ("" if any(r.errors for r in failed) else " (warnings, --strict)")
        )
        return ExitCode.INVALID_CONFIG
    return ExitCode.OK


class Sources:
    """Where a variable's value comes from: the environment, the ``.env`` file, or nowhere."""

    def __init__(self, env_file: Path | None) -> None:
        self.env_file = env_file
        self.environ = {k.upper(): v for k, v in os.environ.items()}
        self.dotenv = {k.upper(): v for k, v in (dotenv_values(env_file) if env_file else {}).items()}

    def of(self, variable: str) -> str:
        """``environment``, ``.env`` or ``default`` (a nested name counts its group's variable too)."""
        names = [variable, variable.split("__")[0]] if "__" in variable else [variable]
        for name in names:
            if name in self.environ:
                return "environment"
            if name in self.dotenv:
                return str(self.env_file)
        return "default"

    def unknown_variables(self) -> list[str]:
        """Set variables that look like a service's setting but are none (both classes ignore them)."""
        known = {v for service in SERVICES for v in variables(settings_class(service))}
        warnings = []
        for name in sorted({*self.environ, *self.dotenv}):
            if name in known or name in CLI_VARIABLES or not name.startswith(SETTING_PREFIXES):
                continue
            if name in {"TOPICS", "THRESHOLDS"}:  # a whole group as JSON
                continue
            hint = difflib.get_close_matches(name, known, n=1)
            warning = f"{name} is not a setting of either service and is ignored"
            warnings.append(warning + (f"; did you mean {hint[0]}?" if hint else ""))
        return warnings


def variables(cls: type[BaseSettings]) -> set[str]:
    """Every environment variable a settings class reads, nested groups as ``GROUP__FIELD``."""
    names: set[str] = set()
    for name, info in cls.model_fields.items():
        default = info.get_default(call_default_factory=True)
        inner = _inner_fields(default)
        if inner:
            names.update(f"{name.upper()}__{sub.upper()}" for sub in inner)
        else:
            names.add(name.upper())
    return names


def _inner_fields(value: Any) -> list[str]:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return list(type(value).model_fields)
    if hasattr(value, "__dataclass_fields__"):
        return list(value.__dataclass_fields__)
    return []


def inspect(service: str, sources: Sources) -> Report:
    """Build ``service``'s settings as the service would and describe them."""
    from pydantic import ValidationError

    report = Report(service)
    try:
        settings = settings_class(service)(_env_file=sources.env_file)
    except ValidationError as exc:
        report.errors = [_describe(error) for error in exc.errors()]
        return report
    report.settings = [
        _masked({"setting": name, "value": value, "source": sources.of(name)})
        for name, value in flatten(settings.model_dump(mode="json"))
    ]
    level = str(getattr(settings, "log_level", "INFO")).upper()
    if level not in logging.getLevelNamesMapping():
        report.errors.append(f"LOG_LEVEL: unknown level {level!r}; the service stops at start")
    report.warnings += _warnings(settings)
    return report


def flatten(values: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """``(VARIABLE, text)`` per setting; nested groups become ``GROUP__FIELD``."""
    rows: list[tuple[str, str]] = []
    for name, value in values.items():
        variable = f"{prefix}{name.upper()}"
        if isinstance(value, dict):
            rows += flatten(value, f"{variable}__")
        elif isinstance(value, list) and value and all(v == MASK for v in value):
            rows.append((variable, f"{len(value)} key(s), masked"))
        elif isinstance(value, list):
            rows.append((variable, ",".join(_stable(value)) or "(none)"))
        else:
            rows.append((variable, "(unset)" if value is None else str(value)))
    return rows


def _stable(value: list[Any]) -> list[str]:
    # A frozenset of names (THRESHOLDS__DECISION_ROLES) dumps in hash order: sort names so the output
    # is stable. Numbers (WEBHOOK_RETRY_SCHEDULE_S) keep their order, which means something.
    texts = [str(v) for v in value]
    return sorted(texts) if all(isinstance(v, str) for v in value) else texts


def _masked(row: dict[str, str]) -> dict[str, str]:
    """A DATABASE_URL shows without its password; any other secret already dumps masked."""
    if row["setting"] == "DATABASE_URL":
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            row["value"] = make_url(row["value"]).render_as_string(hide_password=True)
        except ArgumentError:
            row["value"] = "(unparsable URL, not shown)"
    return row


def _describe(error: Any) -> str:
    """A validation error as ``VARIABLE: message``, without the value (it may be a secret)."""
    loc = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
    name = "__".join(part.upper() for part in loc) if loc else "settings"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{name}: {message}"


def _warnings(settings: BaseSettings) -> list[str]:
    out = []
    for keys_name in ("ingest_api_keys", "analyzer_api_keys"):
        if hasattr(settings, keys_name) and not getattr(settings, keys_name):
            out.append(f"{keys_name.upper()} is empty: every authenticated call will get 401")
    from services.analyzer.settings import AnalyzerSettings

    if isinstance(settings, AnalyzerSettings):
        if settings.webhook_lease_s <= settings.webhook_request_timeout_s:
            out.append("WEBHOOK_LEASE_S should exceed WEBHOOK_REQUEST_TIMEOUT_S, or a slow delivery is sent twice")
        if settings.environment == "production" and settings.database_url.startswith("sqlite"):
            out.append("DATABASE_URL is a SQLite file in production: one analyzer instance only, on local disk")
    return out
