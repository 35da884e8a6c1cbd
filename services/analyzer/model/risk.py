"""The account's renewal risk: a probability that its next renewal goes badly, with its reasons.

A logistic model over a handful of factors read from the account's snapshot, each on a scale a
person can check (docs/model.md, "Renewal risk"):

- ``lowest_decision_maker``: the lowest position among the roles of the people who decide the
  renewal, each shrunk toward a prior by its standard error (one noisy answer moves it a little,
  a run of answers moves it a lot); the prior when no decision maker has answered.
- ``decision_makers_mean``: the mean of those roles' shrunk positions, every role of the people who
  decide counted, an unheard one at the prior: silence from them raises the risk, it is no blank.
- ``decision_makers_fall``: how far that mean fell over the trend window (0 if it rose).
- ``lowest_role``: the lowest client role of all, shrunk the same way: a role that does not sign
  can still sink a renewal (IT that carries the effort of running the product).
- ``role_fall``: the steepest fall of one client role's position over the trend window, beyond its
  noise: a role souring now, which a role that has always been low is not.
- ``unheard_decision_makers``: the share of the account's decision makers with no answer recent
  enough to count (confidence below ``min_role_confidence``); 1 when the directory names none.
- ``unheard_near_renewal``: the same share, counted only inside the renewal window, where silence
  from the people who decide is itself a warning.
- ``divergence``: how far apart the roles are beyond the noise (the gap's lower bound, 0 if none).
- ``widening``: how much the divergence grew over the trend window (0 if it shrank).
- ``blind_spot``: how far the supplier rates itself above the client on its worst dimension.
- ``nps``: the classic account NPS / 100, the single score, kept as one factor among others.

probability = 1 / (1 + exp(-(intercept + Σ coefficient_k · factor_k))). Each factor's *contribution*
is its coefficient times its distance from a healthy reference account, in log-odds, so the reasons
rank what moves this account's risk. The coefficients are the documented defaults below unless a
portfolio has fitted its own (``feedback risk fit``); both are versioned.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

FACTORS: Final[tuple[str, ...]] = (
    "lowest_decision_maker",
    "decision_makers_mean",
    "decision_makers_fall",
    "lowest_role",
    "role_fall",
    "unheard_decision_makers",
    "unheard_near_renewal",
    "divergence",
    "widening",
    "blind_spot",
    "nps",
)

# Which way each factor moves the risk by its meaning: +1 raises it, -1 lowers it. A fit that finds
# the other sign (a chance pattern of one portfolio) leaves the factor out rather than tell a person
# that, say, a wider split makes a renewal safer.
DIRECTION: Final[Mapping[str, int]] = {
    "lowest_decision_maker": -1,
    "decision_makers_mean": -1,
    "decision_makers_fall": 1,
    "lowest_role": -1,
    "role_fall": 1,
    "unheard_decision_makers": 1,
    "unheard_near_renewal": 1,
    "divergence": 1,
    "widening": 1,
    "blind_spot": 1,
    "nps": -1,
}

# A healthy account: decision makers around NPS 8 (+0.6), everyone heard, no split, NPS +40.
REFERENCE: Final[Mapping[str, float]] = {
    "lowest_decision_maker": 0.6,
    "decision_makers_mean": 0.6,
    "decision_makers_fall": 0.0,
    "lowest_role": 0.6,
    "role_fall": 0.0,
    "unheard_decision_makers": 0.0,
    "unheard_near_renewal": 0.0,
    "divergence": 0.0,
    "widening": 0.0,
    "blind_spot": 0.0,
    "nps": 0.4,
}


@dataclass(frozen=True, slots=True)
class RiskModel:
    """Coefficients of the renewal-risk model (log-odds per unit of each factor) and its priors."""

    version: str
    intercept: float
    coefficients: Mapping[str, float]
    # Where a role's position is shrunk to, and how far positions spread between roles a priori.
    prior_position: float = 0.4
    prior_sd: float = 0.35
    source: str = "defaults"

    def __post_init__(self) -> None:
        unknown = set(self.coefficients) - set(FACTORS)
        if unknown:
            raise ValueError(f"unknown risk factors: {', '.join(sorted(unknown))}")
        if self.prior_sd <= 0:
            raise ValueError("prior_sd must be positive")

    def coefficient(self, factor: str) -> float:
        """A factor's coefficient (0 for a factor the model leaves out)."""
        return self.coefficients.get(factor, 0.0)


# Fitted (``risk_fit.fit``, l2 = 1, factors at 30, 60, 90, 120 and 150 days before each renewal) on the
# thirty tuning seeds (1-30) of the demo generator (bench/backtest, docs/model.md "Renewal risk"), rounded; never
# on the seeds the backtest reports. The factors the fit left out (0) stay in the model's vocabulary, so
# that a portfolio's own fit can bring them in.
DEFAULT_RISK_MODEL: Final = RiskModel(
    version="default-2026-12",
    intercept=0.42,
    coefficients={
        "lowest_decision_maker": -1.19,
        "decision_makers_mean": -1.77,
        "decision_makers_fall": 0.0,
        "lowest_role": 0.0,
        "role_fall": 0.09,
        "unheard_decision_makers": 0.0,
        "unheard_near_renewal": 0.07,
        "divergence": 0.0,
        "widening": 0.53,
        "blind_spot": 0.0,
        "nps": -0.63,
    },
)


@dataclass(frozen=True, slots=True)
class Factor:
    """One factor of an account's risk: its value and its contribution in log-odds."""

    name: str
    value: float
    contribution: float


@dataclass(frozen=True, slots=True)
class Risk:
    """An account's renewal risk: the probability, the model version and every factor."""

    probability: float
    model_version: str
    factors: tuple[Factor, ...] = field(default_factory=tuple)
    # The decision-making role behind ``lowest_decision_maker``, if any answered.
    lowest_role: str | None = None

    def reasons(self, limit: int = 3) -> tuple[Factor, ...]:
        """The factors that raise the risk most, largest first (only those that raise it)."""
        raising = sorted((f for f in self.factors if f.contribution > 1e-9), key=lambda f: (-f.contribution, f.name))
        return tuple(raising[:limit])


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def shrink(position: float, se: float, *, prior: float, prior_sd: float) -> float:
    """A position pulled toward ``prior`` by its noise: the posterior mean of a normal-normal model."""
    if not math.isfinite(se):
        return prior
    if se <= 0.0:
        return position
    precision, prior_precision = 1.0 / (se * se), 1.0 / (prior_sd * prior_sd)
    return (position * precision + prior * prior_precision) / (precision + prior_precision)


def score(values: Mapping[str, float], model: RiskModel, *, lowest_role: str | None = None) -> Risk:
    """The risk of an account whose factors read ``values`` (missing factors read as the reference)."""
    factors = []
    logit = model.intercept
    for name in FACTORS:
        value = values.get(name, REFERENCE[name])
        coefficient = model.coefficient(name)
        logit += coefficient * value
        factors.append(Factor(name, value, coefficient * (value - REFERENCE[name])))
    return Risk(sigmoid(logit), model.version, tuple(factors), lowest_role)
