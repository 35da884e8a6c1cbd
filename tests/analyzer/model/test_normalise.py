"""Normalisation onto -1 .. +1 and the classic account scores."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.analyzer.model import (
    ClassicAnswer,
    Scale,
    classic_scores,
    csat_percent,
    neteasy_score,
    normalise,
    normalise_answer,
    nps_class,
    nps_score,
)
from shared.events import Scale as EventScale


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, -1.0), (5, 0.0), (6, 0.2), (9, 0.8), (10, 1.0)],
)
def test_nps_is_x_minus_5_over_5(score: float, expected: float) -> None:
    assert normalise_answer("nps", score) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("score", "expected"), [(1, -1.0), (2, -0.5), (3, 0.0), (4, 0.5), (5, 1.0)])
def test_csat_is_x_minus_3_over_2(score: float, expected: float) -> None:
    assert normalise_answer("csat", score) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("score", "expected"), [(1, 1.0), (2, 0.5), (3, 0.0), (4, -0.5), (5, -1.0)])
def test_ces_is_3_minus_x_over_2(score: float, expected: float) -> None:
    assert normalise_answer("ces", score) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("score", "expected"), [(1, 1.0), (2, 2 / 3), (4, 0.0), (5, -1 / 3), (7, -1.0)])
def test_neteasy_is_4_minus_x_over_3(score: float, expected: float) -> None:
    assert normalise_answer("neteasy", score) == pytest.approx(expected, abs=1e-12)


def test_midpoints_are_exactly_zero() -> None:
    assert normalise_answer("nps", 5) == 0.0
    assert normalise_answer("csat", 3) == 0.0
    assert normalise(0.3, Scale(0.1, 0.5)) == 0.0


def test_rating_on_explicit_scale_is_linear_and_flipped_when_lower_is_better() -> None:
    assert normalise_answer("rating", 10, Scale(1, 10)) == 1.0
    assert normalise_answer("rating", 1, Scale(1, 10)) == -1.0
    assert normalise_answer("rating", 4, Scale(1, 10)) == pytest.approx(-1 / 3)
    assert normalise_answer("rating", 4, Scale(1, 10, higher_is_better=False)) == pytest.approx(1 / 3)


def test_csat_on_a_seven_point_scale() -> None:
    assert normalise_answer("csat", 7, Scale(1, 7)) == 1.0
    assert normalise_answer("csat", 4, Scale(1, 7)) == 0.0
    assert normalise_answer("csat", 6, Scale(1, 7)) == pytest.approx(2 / 3)


def test_accepts_the_event_schemas_scale() -> None:
    assert normalise(4, EventScale(min=1, max=5, higher_is_better=False)) == pytest.approx(-0.5)


def test_rating_without_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="explicit scale"):
        normalise_answer("rating", 3)


@pytest.mark.parametrize(("score", "scale"), [(11, Scale(0, 10)), (-0.1, Scale(0, 10)), (0, Scale(1, 5))])
def test_score_off_the_scale_is_refused(score: float, scale: Scale) -> None:
    with pytest.raises(ValueError, match="outside the scale"):
        normalise(score, scale)


def test_empty_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="below max"):
        Scale(5, 5)


@given(
    low=st.floats(-1e6, 1e6),
    span=st.floats(1e-3, 1e6),
    fraction=st.floats(0, 1),
    higher=st.booleans(),
)
def test_normalise_stays_on_scale_and_flip_is_a_mirror(low: float, span: float, fraction: float, higher: bool) -> None:
    scale = Scale(low, low + span, higher)
    score = min(scale.max, low + fraction * span)
    value = normalise(score, scale)
    assert -1.0 <= value <= 1.0
    mirrored = normalise(score, Scale(scale.min, scale.max, not higher))
    assert value == pytest.approx(-mirrored, abs=1e-9)


@given(a=st.integers(0, 10), b=st.integers(0, 10))
def test_nps_normalisation_is_monotone(a: int, b: int) -> None:
    if a < b:
        assert normalise_answer("nps", a) < normalise_answer("nps", b)


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0, "detractor"),
        (6, "detractor"),
        (6.5, "detractor"),
        (7, "passive"),
        (8, "passive"),
        (9, "promoter"),
        (10, "promoter"),
    ],
)
def test_nps_class_boundaries(score: float, expected: str) -> None:
    assert nps_class(score) == expected


def test_nps_class_refuses_off_scale() -> None:
    with pytest.raises(ValueError, match="outside"):
        nps_class(11)


def test_nps_score() -> None:
    assert nps_score([]) is None
    assert nps_score([10, 9, 9]) == 100.0
    assert nps_score([0, 6]) == -100.0
    assert nps_score([10, 8, 6]) == 0.0
    assert nps_score([10, 9, 8, 3, 7, 7]) == pytest.approx(100 / 6)


def test_csat_percent_counts_four_and_five_on_five_points() -> None:
    values = [normalise_answer("csat", s) for s in (5, 4, 3, 2)]
    assert csat_percent(values) == 50.0
    assert csat_percent([]) is None


def test_csat_percent_counts_six_and_seven_on_seven_points() -> None:
    values = [normalise_answer("csat", s, Scale(1, 7)) for s in (7, 6, 5, 4)]
    assert csat_percent(values) == 50.0


def test_neteasy_is_easy_minus_difficult() -> None:
    values = [normalise_answer("neteasy", s) for s in (1, 2, 3, 4, 5, 6, 7)]
    # Easy: 1-2 (two); difficult: 5-7 (three).
    assert neteasy_score(values) == pytest.approx(100 * (2 - 3) / 7)
    assert neteasy_score([normalise_answer("neteasy", 2)]) == 100.0
    assert neteasy_score([normalise_answer("neteasy", 5)]) == -100.0
    assert neteasy_score([normalise_answer("neteasy", 3), normalise_answer("neteasy", 4)]) == 0.0
    assert neteasy_score([]) is None


def test_classic_scores_counts_each_person_once_per_metric() -> None:
    answers = [
        ClassicAnswer("a", "nps", 10, 1.0),
        ClassicAnswer("b", "nps", 8, 0.6),
        ClassicAnswer("c", "nps", 4, -0.2),
        ClassicAnswer("c", "nps", 9, 0.8),  # a later one given for the same person replaces theirs
        ClassicAnswer("a", "csat", 4, 0.5),
        ClassicAnswer("b", "csat", 2, -0.5),
        ClassicAnswer("a", "neteasy", 2, 2 / 3),
        ClassicAnswer("a", "rating", 3, 0.0),
    ]
    scores = classic_scores(answers)
    assert (scores.promoters, scores.passives, scores.detractors) == (2, 1, 0)
    assert scores.nps == pytest.approx(200 / 3)
    assert scores.nps_respondents == 3
    assert (scores.csat, scores.csat_respondents) == (50.0, 2)
    assert (scores.neteasy, scores.neteasy_respondents) == (100.0, 1)


def test_classic_scores_of_nothing() -> None:
    scores = classic_scores([])
    assert (scores.nps, scores.csat, scores.neteasy) == (None, None, None)
    assert scores.nps_respondents == 0
