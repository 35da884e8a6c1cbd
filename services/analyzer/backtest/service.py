"""The backtest over what the analyzer stored: the answer of ``GET /v1/backtest`` (the dashboard shows it too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.backtest import repository as stored
from services.analyzer.backtest.calibration import Calibration, calibrate
from services.analyzer.backtest.rules import RECOMMENDED, SCORED_ALERTS, Backtest, run_backtest
from services.analyzer.backtest.schemas import (
    BacktestView,
    CalibrationGroupView,
    CalibrationView,
    RenewalView,
    RuleView,
)
from services.analyzer.backtest.scoring import BAD_OUTCOMES, NpsAnswer
from shared.errors import InvalidRequest


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def calibration_view(fit: Calibration, horizon: timedelta) -> CalibrationView:
    """The calibration as the endpoint shows it."""
    return CalibrationView(
        horizon_days=int(horizon / timedelta(days=1)),
        renewals=fit.renewals,
        bad=fit.bad,
        brier=_round(fit.brier, 4),
        brier_base_rate=_round(fit.brier_base_rate, 4),
        groups=[
            CalibrationGroupView(renewals=g.renewals, predicted=round(g.predicted, 4), observed=round(g.observed, 4))
            for g in fit.groups
        ],
    )


def view(
    result: Backtest,
    *,
    account_prefix: str | None,
    detail: bool,
    calibration: CalibrationView,
) -> BacktestView:
    """The endpoint's answer for a computed backtest."""
    counts = result.outcome_counts()
    bad = sum(n for outcome, n in counts.items() if outcome in BAD_OUTCOMES)
    rules = [
        RuleView(
            rule=rule.name,
            kind=rule.kind,
            description=rule.description,
            flagged=score.flagged,
            caught=score.caught,
            false_alarms=score.false_alarms - len(result.saves_of(rule.name)),
            saves=len(result.saves_of(rule.name)),
            missed=score.missed,
            precision=_round(score.precision, 4),
            recall=_round(score.recall, 4),
            median_lead_days=_round(score.median_lead_days, 1),
            flags_per_bad_renewal=_round(score.flagged / bad, 2) if bad else None,
        )
        for rule, score in result.scores
    ]
    per_renewal: list[RenewalView] | None = None
    if detail:
        leads = {rule.name: {v.renewal: v.lead_days for v in score.verdicts} for rule, score in result.scores}
        per_renewal = [
            RenewalView(
                account_id=r.account_id,
                renewal_at=r.at,
                outcome=r.outcome,
                lead_days={name: _round(by[r], 1) for name, by in leads.items()},
                saved_by=[rule.name for rule, _ in result.scores if r in result.saves_of(rule.name)],
            )
            for r in result.renewals
        ]
    return BacktestView(
        lookback_days=int(result.lookback / timedelta(days=1)),
        account_prefix=account_prefix,
        renewals=len(result.renewals),
        outcomes=counts,
        bad_outcomes=sum(n for outcome, n in counts.items() if outcome in BAD_OUTCOMES),
        unknown_outcomes=result.unknown_outcomes,
        recommended=RECOMMENDED,
        rules=rules,
        calibration=calibration,
        detail=per_renewal,
    )


async def compute(
    session: AsyncSession,
    *,
    lookback: timedelta,
    horizon: timedelta,
    account_prefix: str | None = None,
    detail: bool = False,
    max_rows: int,
) -> BacktestView:
    """The backtest over what the analyzer stored: the endpoint's answer (the dashboard shows it too).

    ``horizon``: how long before each renewal the risk's prediction was read (``risk_horizon``). It is
    bounded, not aggregated in SQL: only accounts with a renewal outcome are read, and when that is more
    than ``max_rows`` rows (counted in SQL first) it raises ``InvalidRequest`` (422) instead of loading them.
    """
    planned = await stored.rows_to_read(session, SCORED_ALERTS, account_prefix=account_prefix)
    if planned > max_rows:
        raise InvalidRequest(
            [
                {
                    "field": "account_prefix",
                    "message": f"the backtest would read {planned} stored rows, more than ANALYZER_BACKTEST_MAX_ROWS "
                    f"({max_rows}); narrow it with account_prefix",
                    "type": "too_large",
                }
            ]
        )
    outcomes = await stored.renewal_outcomes(session, account_prefix=account_prefix)
    alerts = await stored.alert_spans(session, SCORED_ALERTS, account_prefix=account_prefix)
    answers = await stored.client_nps_answers(session, account_prefix=account_prefix)
    result = run_backtest(
        ((o.account_id, o.at, o.outcome) for o in outcomes),
        ((a.account_id, a.type, a.opened_as_of, a.closed_as_of) for a in alerts),
        ((n.account_id, NpsAnswer(n.stakeholder_id, n.at, n.event_id, n.score)) for n in answers),
        lookback,
        await stored.plans_done(session, account_prefix=account_prefix),
    )
    known = {(r.account_id, _utc(r.at)): r.bad for r in result.renewals}
    pairs = [
        (p.probability, known[(p.account_id, _utc(p.renewal_at))])
        for p in await stored.risk_predictions(session, account_prefix=account_prefix)
        if (p.account_id, _utc(p.renewal_at)) in known
    ]
    return view(
        result, account_prefix=account_prefix, detail=detail, calibration=calibration_view(calibrate(pairs), horizon)
    )


def _utc(at: datetime) -> datetime:
    # Stored times read back naive on SQLite; every time the analyzer writes is UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
