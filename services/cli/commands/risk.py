"""``feedback risk``: fit the renewal-risk model to the portfolio's own renewals, show it, reset it.

Like ``rebuild`` these work on the analyzer's database directly (``DATABASE_URL``). A fit is stored
with its version and its out-of-time validation and becomes the model in use, read by the analyzer
when it next starts: never silently, and only by this command (docs/model.md, "Renewal risk").
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from services.cli.commands.base import SubParsers, add_command, add_group
from services.cli.context import Context
from services.cli.errors import CliError, ExitCode, InvalidConfig, UsageError
from services.cli.output import emit_json, field, fields, note, table

if TYPE_CHECKING:
    from services.analyzer.settings import AnalyzerSettings

NAME = "risk"
HELP = "the renewal-risk model: fit it to your own renewals, show the one in use, go back to the defaults"
COEFFICIENT_COLUMNS = [field("FACTOR"), field("COEFFICIENT")]
FIT_COLUMNS = [field("VERSION"), field("CREATED", "created_at"), field("RENEWALS"), field("BAD"), field("ACTIVE")]


def register(commands: SubParsers, common: argparse.ArgumentParser) -> None:
    """``risk fit``, ``risk show``, ``risk reset``."""
    group = add_group(commands, NAME, HELP)
    fit = add_command(
        group,
        "fit",
        run_fit,
        common,
        help="fit the risk model to the stored renewal outcomes and put it in use",
        description=(
            "Read every account with a renewal_outcome from DATABASE_URL, take its risk factors at 30,\n"
            "60, 90, 120 and 150 days before each renewal (knowing only what was known then), fit a\n"
            "ridge logistic regression, check it out of time (fitted on the earlier 70 % of renewals,\n"
            "scored on the later 30 %, beside the model in use), store it with a new version and put it\n"
            "in use. Restart the analyzer to apply it: evaluations from then on use it, alerts already\n"
            "recorded keep theirs. A fit that predicts the later renewals worse than the model in use is\n"
            "refused unless --force. Needs at least 30 renewals, 8 of each kind. See docs/model.md."
        ),
    )
    fit.add_argument("--l2", type=float, default=1.0, help="ridge penalty on the coefficients (default 1.0)")
    fit.add_argument("--dry-run", action="store_true", help="fit and validate, store nothing")
    fit.add_argument("--force", action="store_true", help="store and use the fit even if it validates worse")
    add_command(group, "show", run_show, common, help="the risk model in use and every stored fit")
    add_command(group, "reset", run_reset, common, help="stop using any stored fit (the defaults apply again)")


def _settings(ctx: Context) -> AnalyzerSettings:
    from pydantic import ValidationError

    from services.analyzer.migrate import upgrade
    from services.analyzer.settings import AnalyzerSettings

    try:
        settings = AnalyzerSettings(_env_file=ctx.env_file)
    except ValidationError as exc:
        raise InvalidConfig(f"the analyzer's settings are invalid: {exc}") from exc
    upgrade(settings.database_url)  # the fits live in the analyzer's schema; never inside an event loop
    return settings


def _coefficients(model: dict[str, Any]) -> list[dict[str, Any]]:
    rows = [{"factor": "(intercept)", "coefficient": model["intercept"]}]
    rows += [{"factor": name, "coefficient": value} for name, value in model["coefficients"].items()]
    return rows


def run_fit(ctx: Context) -> int:
    """Fit; exit 1 when the portfolio has too few renewals."""
    from services.analyzer.model.risk_fit import NotEnoughRenewals
    from services.analyzer.risk_command import WorseThanCurrent, describe, fit_risk

    l2 = ctx.args.l2
    if l2 < 0:
        raise UsageError("--l2 must not be negative")
    try:
        report = asyncio.run(fit_risk(_settings(ctx), l2=l2, dry_run=ctx.args.dry_run, force=ctx.args.force))
    except NotEnoughRenewals as exc:
        raise CliError(f"cannot fit the risk model: {exc}") from exc
    except WorseThanCurrent as exc:
        raise CliError(f"not stored: {exc}") from exc
    model = describe(report.model)
    validation = report.validation
    if ctx.json:
        emit_json(
            {
                "model": model,
                "renewals": report.renewals,
                "bad": report.bad,
                "stored": report.stored,
                "validation": None if validation is None else asdict(validation),
            }
        )
        return ExitCode.OK
    fields([("version", model["version"]), ("source", model["source"]), ("stored", report.stored)])
    table(_coefficients(model), COEFFICIENT_COLUMNS)
    if validation is not None:
        note(
            f"out of time: fitted on {validation.trained_on} renewals, scored on the next {validation.tested_on}: "
            f"Brier {validation.brier:.3f} (model in use {validation.brier_current:.3f}, "
            f"base rate {validation.brier_base_rate:.3f}; lower is better)"
        )
    else:
        note("too few renewals to hold any out: no out-of-time check")
    if report.stored:
        note("stored and in use: restart the analyzer to apply it (alerts already recorded keep their model)")
    return ExitCode.OK


def run_show(ctx: Context) -> int:
    """The model in use and the stored fits."""
    from services.analyzer.risk_command import describe, fits, load_active

    settings = _settings(ctx)
    active = describe(asyncio.run(load_active(settings)))
    stored = asyncio.run(fits(settings))
    if ctx.json:
        emit_json({"active": active, "fits": stored})
        return ExitCode.OK
    fields([("in use", active["version"]), ("source", active["source"])])
    table(_coefficients(active), COEFFICIENT_COLUMNS)
    table(stored, FIT_COLUMNS, empty="(no stored fit: the defaults are in use)")
    return ExitCode.OK


def run_reset(ctx: Context) -> int:
    """Back to the defaults."""
    from services.analyzer.risk_command import reset_risk

    count = asyncio.run(reset_risk(_settings(ctx)))
    if ctx.json:
        emit_json({"deactivated": count})
    else:
        note("the defaults apply when the analyzer next starts" if count else "no stored fit was in use")
    return ExitCode.OK
