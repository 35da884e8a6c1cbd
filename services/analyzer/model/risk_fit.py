"""Fitting the renewal-risk model to a portfolio's own renewals: ridge logistic regression (pure).

Each example is one renewal with a known outcome: the account's risk factors as they read a horizon
before it (``risk.FACTORS``) and whether it went badly. The fit maximises the log-likelihood minus
``l2`` times the sum of squared coefficients (the intercept is not penalised), by Newton's method: with
eleven factors that is a 12-by-12 linear solve per step, a few steps in all, so no numerical library is
needed. ``validate`` fits on the earlier renewals and scores the later ones (out of time), which is
how a portfolio learns whether its own history predicts its future.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import product
from typing import Final

from services.analyzer.model.account_state import PersonFacts
from services.analyzer.model.replay import Fact, risk_at
from services.analyzer.model.risk import DIRECTION, FACTORS, REFERENCE, RiskModel, sigmoid
from services.analyzer.model.thresholds import Thresholds

# The outcomes of a renewal, and the ones that count as bad (as the backtest counts them).
OUTCOMES: Final = frozenset({"renewed", "downsized", "churned"})
BAD_OUTCOMES: Final = frozenset({"downsized", "churned"})

DEFAULT_L2: Final = 1.0
MAX_STEPS: Final = 50
# Fewer renewals than this, or fewer than this many of each outcome, and a fit says nothing.
MIN_RENEWALS: Final = 30
MIN_PER_OUTCOME: Final = 8


class NotEnoughRenewals(ValueError):
    """Too few renewals with a known outcome to fit the risk model."""


@dataclass(frozen=True, slots=True)
class Example:
    """One renewal: the risk factors a horizon before it, whether it went badly, and when it was."""

    factors: Mapping[str, float]
    bad: bool
    at: datetime
    # Which renewal it reads (several horizons of one renewal share it); "" counts each apart.
    renewal: str = ""

    @property
    def key(self) -> tuple[datetime, str]:
        """The renewal it belongs to."""
        return (self.at, self.renewal or str(id(self)))


def count_renewals(examples: Sequence[Example]) -> tuple[int, int]:
    """How many distinct renewals the examples read, and how many of them went badly."""
    outcome = {e.key: e.bad for e in examples}
    return len(outcome), sum(1 for bad in outcome.values() if bad)


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (the matrix is small and positive definite)."""
    n = len(vector)
    a = [[*row, vector[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        if abs(a[col][col]) < 1e-300:
            raise ArithmeticError("singular system")
        for row in range(col + 1, n):
            factor = a[row][col] / a[col][col]
            for k in range(col, n + 1):
                a[row][k] -= factor * a[col][k]
    solution = [0.0] * n
    for row in range(n - 1, -1, -1):
        total = a[row][n] - math.fsum(a[row][k] * solution[k] for k in range(row + 1, n))
        solution[row] = total / a[row][row]
    return solution


def _design(examples: Sequence[Example], factors: Sequence[str]) -> list[list[float]]:
    # Factors centred on the healthy reference, so the intercept is the log-odds of a healthy account.
    return [[1.0] + [e.factors.get(f, REFERENCE[f]) - REFERENCE[f] for f in factors] for e in examples]


def _newton(x: Sequence[Sequence[float]], y: Sequence[float], l2: float) -> list[float]:
    """The ridge logistic regression's coefficients (intercept first, unpenalised)."""
    k = len(x[0])
    beta = [0.0] * k
    for _ in range(MAX_STEPS):
        p = [sigmoid(math.fsum(b * v for b, v in zip(beta, row, strict=True))) for row in x]
        gradient = [math.fsum((yi - pi) * row[j] for row, yi, pi in zip(x, y, p, strict=True)) for j in range(k)]
        hessian = [
            [math.fsum(pi * (1 - pi) * row[i] * row[j] for row, pi in zip(x, p, strict=True)) for j in range(k)]
            for i in range(k)
        ]
        for j in range(1, k):
            gradient[j] -= 2 * l2 * beta[j]
            hessian[j][j] += 2 * l2
        step = _solve(hessian, gradient)
        beta = [b + s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-8:
            break
    return beta


def fit(
    examples: Sequence[Example],
    *,
    l2: float = DEFAULT_L2,
    version: str,
    source: str,
    prior: RiskModel | None = None,
) -> RiskModel:
    """The ridge logistic regression of the outcomes on the factors, as a ``RiskModel``.

    Raises ``NotEnoughRenewals`` below ``MIN_RENEWALS`` renewals or ``MIN_PER_OUTCOME`` of either
    outcome. ``prior`` lends its shrinkage settings (``prior_position``, ``prior_sd``).
    """
    renewals, bad = count_renewals(examples)
    if renewals < MIN_RENEWALS or min(bad, renewals - bad) < MIN_PER_OUTCOME:
        raise NotEnoughRenewals(
            f"{renewals} renewals with a known outcome ({bad} churned or downsized): a fit needs at least "
            f"{MIN_RENEWALS}, with at least {MIN_PER_OUTCOME} of each kind"
        )
    y = [1.0 if e.bad else 0.0 for e in examples]
    kept = list(FACTORS)
    while True:
        beta = _newton(_design(examples, kept), y, l2)
        fitted = dict(zip(kept, beta[1:], strict=True))
        # A factor fitted against its meaning is dropped, the most contrary first, and the rest refitted.
        contrary = [f for f in kept if fitted[f] * DIRECTION[f] < 0]
        if not contrary:
            break
        kept.remove(max(contrary, key=lambda f: abs(fitted[f])))
    coefficients = {f: fitted.get(f, 0.0) for f in FACTORS}
    # Back from centred factors: intercept + Σ b·(f - ref) = (intercept - Σ b·ref) + Σ b·f.
    intercept = beta[0] - math.fsum(coefficients[f] * REFERENCE[f] for f in FACTORS)
    base = prior or RiskModel(version="", intercept=0.0, coefficients={})
    return RiskModel(
        version=version,
        intercept=intercept,
        coefficients=coefficients,
        prior_position=base.prior_position,
        prior_sd=base.prior_sd,
        source=source,
    )


def predict(model: RiskModel, factors: Mapping[str, float]) -> float:
    """The probability the model gives an account whose factors read ``factors``."""
    logit = model.intercept + math.fsum(model.coefficient(f) * factors.get(f, REFERENCE[f]) for f in FACTORS)
    return sigmoid(logit)


@dataclass(frozen=True, slots=True)
class Validation:
    """An out-of-time check: fitted on the earlier renewals, scored on the later ones."""

    trained_on: int  # renewals
    tested_on: int
    brier: float
    brier_base_rate: float
    brier_current: float  # the model in use, on the same later renewals


def validate(
    examples: Sequence[Example], *, current: RiskModel, l2: float = DEFAULT_L2, holdout: float = 0.3
) -> Validation:
    """Fit on the earliest ``1 - holdout`` of the renewals, score the rest, beside the model in use.

    The cut falls between renewals, never between the horizons of one renewal.
    """
    keys = sorted({e.key for e in examples})
    later = set(keys[round(len(keys) * (1 - holdout)) :])
    train = [e for e in examples if e.key not in later]
    test = [e for e in examples if e.key in later]
    if not test:
        raise NotEnoughRenewals("no renewals left to test on")
    model = fit(train, l2=l2, version="validation", source="validation", prior=current)
    base = sum(1 for e in train if e.bad) / len(train)

    def brier(predicted: Sequence[float]) -> float:
        return math.fsum((p - (1.0 if e.bad else 0.0)) ** 2 for p, e in zip(predicted, test, strict=True)) / len(test)

    return Validation(
        trained_on=count_renewals(train)[0],
        tested_on=count_renewals(test)[0],
        brier=brier([predict(model, e.factors) for e in test]),
        brier_base_rate=brier([base] * len(test)),
        brier_current=brier([predict(current, e.factors) for e in test]),
    )


# The horizons the examples are read at: across the half year before a renewal in which a warning
# is useful, so the fitted risk speaks for the whole window, not one day of it.
DEFAULT_HORIZONS: Final = tuple(timedelta(days=d) for d in (30, 60, 90, 120, 150))


def renewal_examples(
    account_id: str,
    facts: Sequence[Fact],
    people: Mapping[str, PersonFacts],
    outcomes: Sequence[tuple[datetime, str]],
    *,
    thresholds: Thresholds,
    half_life: timedelta,
    renewal_date: date | None,
    risk: RiskModel | None = None,
    horizons: Sequence[timedelta] = DEFAULT_HORIZONS,
) -> list[Example]:
    """One account's renewals with a known outcome (``outcomes``: time, outcome), each read at every
    horizon before it, knowing only the facts up to then: one example per renewal and horizon."""
    found = []
    for (at, outcome), horizon in product(outcomes, horizons):
        if outcome not in OUTCOMES:
            continue
        snapshot = risk_at(
            account_id,
            facts,
            people,
            at - horizon,
            thresholds=thresholds,
            half_life=half_life,
            renewal_date=renewal_date,
            risk=risk,
        )
        if snapshot is not None and snapshot.risk is not None:
            values = {f.name: f.value for f in snapshot.risk.factors}
            found.append(Example(values, outcome in BAD_OUTCOMES, at, account_id))
    return found
