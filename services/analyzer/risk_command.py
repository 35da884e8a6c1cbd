"""``feedback risk``: fit the renewal-risk model to the portfolio's own renewals, show it, or reset it.

Like ``feedback rebuild`` it works on the analyzer's database directly (``DATABASE_URL``), reading the
stored answers, moments and directory of every account with a ``renewal_outcome``. A fit is never
applied silently: it is stored with its version and out-of-time validation, becomes the model in use,
and the analyzer reads it when it next starts (docs/model.md, "Renewal risk"); the evaluations from
then on use it, and the alerts already recorded keep the model they were computed with. A fit that
scores worse out of time than the model in use is refused unless forced. The database is expected
at the migrations' head (the command migrates it first, outside any event loop).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from services.analyzer.app import model_config
from services.analyzer.assessment import Assessor, ModelConfig
from services.analyzer.backtest import repository as outcomes
from services.analyzer.db.engine import create_engine, create_sessionmaker
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, RiskModel
from services.analyzer.model.risk_fit import (
    DEFAULT_L2,
    Example,
    NotEnoughRenewals,
    Validation,
    count_renewals,
    fit,
    renewal_examples,
    validate,
)
from services.analyzer.repository import directory, risk_models
from services.analyzer.settings import AnalyzerSettings


@dataclass(frozen=True, slots=True)
class FitReport:
    """What a fit found: the model, what it rests on and how it did out of time."""

    model: RiskModel
    renewals: int
    bad: int
    validation: Validation | None
    stored: bool


async def load_active(settings: AnalyzerSettings) -> RiskModel:
    """The risk model in use: the active stored fit, else the documented defaults."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            row = await risk_models.active(session)
            return DEFAULT_RISK_MODEL if row is None else risk_models.to_model(row)
    finally:
        await engine.dispose()


async def examples(settings: AnalyzerSettings, config: ModelConfig) -> list[Example]:
    """Every stored renewal with a known outcome, read at each horizon before it."""
    assessor = Assessor(config, settings.topics)
    engine = create_engine(settings.database_url)
    found: list[Example] = []
    try:
        async with create_sessionmaker(engine)() as session:
            by_account: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
            for row in await outcomes.renewal_outcomes(session):
                by_account[row.account_id].append((row.at, str(row.outcome)))
            for account_id, renewals in sorted(by_account.items()):
                account = await directory.get_account(session, account_id)
                if account is None:
                    continue
                found += renewal_examples(
                    account_id,
                    await assessor.facts(session, account_id),
                    await assessor.people(session, account_id),
                    renewals,
                    thresholds=config.thresholds,
                    half_life=config.half_life,
                    renewal_date=account.renewal_date,
                    risk=config.risk,
                )
    finally:
        await engine.dispose()
    return found


class WorseThanCurrent(ValueError):
    """The fit predicts the later renewals worse than the model in use."""


async def fit_risk(
    settings: AnalyzerSettings,
    *,
    l2: float = DEFAULT_L2,
    dry_run: bool = False,
    force: bool = False,
    now: datetime | None = None,
) -> FitReport:
    """Fit, validate out of time against the model in use, and (unless ``dry_run``) store and activate.

    Raises ``NotEnoughRenewals`` when the portfolio has too few renewals with a known outcome.
    """
    now = now or datetime.now(UTC)
    current = await load_active(settings)
    config = model_config(settings, current)
    found = await examples(settings, config)
    renewals, bad = count_renewals(found)
    version = f"fit-{now:%Y%m%dT%H%M%SZ}"
    model = fit(found, l2=l2, version=version, source=f"fitted on {renewals} renewals ({bad} bad)", prior=current)
    try:
        checked: Validation | None = validate(found, current=current, l2=l2)
    except NotEnoughRenewals:
        checked = None  # enough to fit on all, not to hold a third out
    if checked is not None and checked.brier > checked.brier_current and not force and not dry_run:
        raise WorseThanCurrent(
            f"the fit scores Brier {checked.brier:.3f} on the later renewals, worse than the model in use "
            f"({checked.brier_current:.3f}): nothing stored; --force stores and uses it anyway"
        )
    if not dry_run:
        engine = create_engine(settings.database_url, writer=True)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                await risk_models.store(
                    session,
                    model,
                    created_at=now,
                    renewals=renewals,
                    bad=bad,
                    validation=None if checked is None else asdict(checked),
                )
        finally:
            await engine.dispose()
    return FitReport(model, renewals, bad, checked, stored=not dry_run)


async def reset_risk(settings: AnalyzerSettings) -> int:
    """Stop using any stored fit; the analyzer goes back to the defaults when it next starts."""
    engine = create_engine(settings.database_url, writer=True)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            return await risk_models.reset(session)
    finally:
        await engine.dispose()


def describe(model: RiskModel) -> dict[str, Any]:
    """A model as JSON: version, source, intercept and coefficients."""
    return {
        "version": model.version,
        "source": model.source,
        "intercept": round(model.intercept, 4),
        "coefficients": {name: round(value, 4) for name, value in model.coefficients.items()},
        "prior_position": model.prior_position,
        "prior_sd": model.prior_sd,
    }


async def fits(settings: AnalyzerSettings) -> list[dict[str, Any]]:
    """Every stored fit, newest first, as rows."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return [
                {
                    "version": row.version,
                    "created_at": row.created_at.isoformat(),
                    "renewals": row.renewals,
                    "bad": row.bad,
                    "active": row.active,
                    "validation": row.validation,
                }
                for row in await risk_models.history(session)
            ]
    finally:
        await engine.dispose()
