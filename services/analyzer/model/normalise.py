"""Answers onto one scale (-1 … +1) and the classic account scores people already know.

Every metric maps linearly onto -1 … +1 with +1 the best the scale allows (docs/model.md). The classic
scores (NPS, CSAT %, NetEasy) are kept beside it because the product's point is to show them next to
the divergence they hide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from shared.limits import DEFAULT_SCALE_BOUNDS

Metric = Literal["nps", "csat", "ces", "neteasy", "rating"]
NpsClass = Literal["promoter", "passive", "detractor"]

# Compare normalised values with a little slack: (4 - 2) / 3 must count as "easy" (>= 2/3) however
# the division rounds.
_EPSILON: Final = 1e-9


class ScaleLike(Protocol):
    """Anything with a scale's bounds and direction (``shared.events.Scale`` fits)."""

    @property
    def min(self) -> float: ...

    @property
    def max(self) -> float: ...

    @property
    def higher_is_better(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Scale:
    """The scale an answer was given on."""

    min: float
    max: float
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if not self.min < self.max:
            raise ValueError(f"scale min {self.min:g} must be below max {self.max:g}")


DEFAULT_SCALES: Final[dict[str, Scale]] = {metric: Scale(*bounds) for metric, bounds in DEFAULT_SCALE_BOUNDS.items()}


def normalise(score: float, scale: ScaleLike) -> float:
    """Map ``score`` linearly onto -1 … +1, +1 being the best end of ``scale``."""
    if not scale.min < scale.max:
        raise ValueError(f"scale min {scale.min:g} must be below max {scale.max:g}")
    if not scale.min <= score <= scale.max:
        raise ValueError(f"score {score:g} is outside the scale {scale.min:g}..{scale.max:g}")
    # (2·score - min - max) / (max - min) is exact at both ends and at the midpoint, where the
    # textbook 2·(score - min)/(max - min) - 1 can land one ulp off zero.
    value = (2 * score - scale.min - scale.max) / (scale.max - scale.min)
    value = value if scale.higher_is_better else -value
    return min(1.0, max(-1.0, value))


def normalise_answer(metric: Metric, score: float, scale: ScaleLike | None = None) -> float:
    """Normalise an answer of ``metric``, on its explicit scale or else the metric's default one."""
    if scale is None:
        if metric == "rating":
            raise ValueError("a rating needs an explicit scale")
        scale = DEFAULT_SCALES[metric]
    return normalise(score, scale)


def nps_class(score: float) -> NpsClass:
    """Promoter (9-10), passive (7-8) or detractor (0-6) of a 0-10 NPS answer."""
    if not 0 <= score <= 10:
        raise ValueError(f"NPS score {score:g} is outside 0..10")
    # NPS answers are whole numbers; a fractional one (8.5) belongs to the class below the next step.
    if score >= 9:
        return "promoter"
    if score >= 7:
        return "passive"
    return "detractor"


def nps_score(scores: Iterable[float]) -> float | None:
    """Account NPS: % promoters - % detractors (-100 … 100) of the latest answer per person."""
    classes = [nps_class(score) for score in scores]
    if not classes:
        return None
    promoters = classes.count("promoter")
    detractors = classes.count("detractor")
    return 100.0 * (promoters - detractors) / len(classes)


def csat_percent(normalised: Iterable[float]) -> float | None:
    """CSAT %: share of satisfied answers, i.e. normalised ≥ +0.5 (4-5 on 1-5, 6-7 on 1-7)."""
    values = list(normalised)
    if not values:
        return None
    satisfied = sum(1 for value in values if value >= 0.5 - _EPSILON)
    return 100.0 * satisfied / len(values)


def neteasy_score(normalised: Iterable[float]) -> float | None:
    """NetEasy: % easy (1-2 on 1-7, normalised ≥ 2/3) - % difficult (5-7, normalised ≤ -1/3)."""
    values = list(normalised)
    if not values:
        return None
    easy = sum(1 for value in values if value >= 2 / 3 - _EPSILON)
    difficult = sum(1 for value in values if value <= -1 / 3 + _EPSILON)
    return 100.0 * (easy - difficult) / len(values)


@dataclass(frozen=True, slots=True)
class ClassicAnswer:
    """The latest answer of one person to one metric, as the classic scores count it."""

    stakeholder_id: str
    metric: Metric
    score: float
    normalised: float


@dataclass(frozen=True, slots=True)
class ClassicScores:
    """The single scores a CX tool would report, with how many people each one rests on."""

    nps: float | None
    nps_respondents: int
    promoters: int
    passives: int
    detractors: int
    csat: float | None
    csat_respondents: int
    neteasy: float | None
    neteasy_respondents: int


def classic_scores(answers: Iterable[ClassicAnswer]) -> ClassicScores:
    """NPS, CSAT % and NetEasy over the latest answer per person and metric (pass client side only)."""
    by_metric: dict[str, dict[str, ClassicAnswer]] = {"nps": {}, "csat": {}, "neteasy": {}}
    for answer in answers:
        if answer.metric in by_metric:
            # The caller passes one answer per person and metric; a duplicate keeps the last one given.
            by_metric[answer.metric][answer.stakeholder_id] = answer
    nps_scores = [a.score for a in by_metric["nps"].values()]
    classes = [nps_class(score) for score in nps_scores]
    return ClassicScores(
        nps=nps_score(nps_scores),
        nps_respondents=len(nps_scores),
        promoters=classes.count("promoter"),
        passives=classes.count("passive"),
        detractors=classes.count("detractor"),
        csat=csat_percent(a.normalised for a in by_metric["csat"].values()),
        csat_respondents=len(by_metric["csat"]),
        neteasy=neteasy_score(a.normalised for a in by_metric["neteasy"].values()),
        neteasy_respondents=len(by_metric["neteasy"]),
    )
