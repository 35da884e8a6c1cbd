"""Divergence, dispersion, and readings of a recorded series (baseline, trend, peak)."""

from __future__ import annotations

import math

import pytest

from services.analyzer.model import baseline, dispersion, divergence, peak_within, trend, value_at
from services.analyzer.model.decay import DEFAULT_HALF_LIFE
from services.analyzer.model.thresholds import DEFAULT_THRESHOLDS
from tests.analyzer.model.factories import at, create_person, create_role

WINDOW = DEFAULT_THRESHOLDS.trend_window


def test_divergence_is_the_widest_gap_with_the_roles_spanning_it() -> None:
    roles = [create_role("procurement", 0.8), create_role("it", -0.2), create_role("finance", 0.3)]
    split = divergence(roles, min_confidence=0.25)
    assert split is not None
    assert split.gap == pytest.approx(1.0)
    assert (split.high.role, split.low.role, split.roles_counted) == ("procurement", "it", 3)


def test_roles_below_the_minimum_confidence_do_not_count() -> None:
    roles = [create_role("procurement", 0.8), create_role("it", -0.2, 0.2499), create_role("finance", 0.3, 0.25)]
    split = divergence(roles, min_confidence=0.25)
    assert split is not None
    assert (split.high.role, split.low.role) == ("procurement", "finance")
    assert split.gap == pytest.approx(0.5)


def test_fewer_than_two_roles_cannot_diverge() -> None:
    assert divergence([create_role("it", 0.1)], min_confidence=0.25) is None
    assert divergence([], min_confidence=0.25) is None


def test_supplier_roles_never_count_in_divergence() -> None:
    roles = [create_role("it", 0.1), create_role("other", -1.0, side="supplier")]
    assert divergence(roles, min_confidence=0.25) is None


def test_equal_positions_break_ties_by_role_name() -> None:
    roles = [create_role("legal", 0.5), create_role("finance", 0.5), create_role("it", 0.5)]
    split = divergence(roles, min_confidence=0.25)
    assert split is not None
    assert (split.gap, split.high.role, split.low.role) == (0.0, "legal", "finance")


def test_default_minimum_confidence_keeps_one_answer_for_about_114_days() -> None:
    # One answer, a quarter and a bit old: still counted; a third of a year old: not.
    weight_at_114 = 2 ** (-114 / (DEFAULT_HALF_LIFE.days))
    weight_at_115 = 2 ** (-115 / (DEFAULT_HALF_LIFE.days))
    assert 1 - 2**-weight_at_114 >= DEFAULT_THRESHOLDS.min_role_confidence
    assert 1 - 2**-weight_at_115 < DEFAULT_THRESHOLDS.min_role_confidence


def test_dispersion_is_the_weighted_standard_deviation_of_client_people() -> None:
    people = [
        create_person("a", "it", 1.0, 0.5),
        create_person("b", "finance", -1.0, 0.5),
        create_person("c", "unassigned", 5.0),
        create_person("s", "other", 9.0, side="supplier"),
    ]
    assert dispersion(people) == pytest.approx(1.0)
    weighted = [create_person("a", "it", 1.0, 0.75), create_person("b", "it", -1.0, 0.25)]
    # Mean 0.5; variance 0.75*0.25 + 0.25*2.25 = 0.75.
    assert dispersion(weighted) == pytest.approx(math.sqrt(0.75))
    assert dispersion([create_person("a", "it", 0.3)]) == 0.0
    assert dispersion([]) is None


def test_value_at_reads_a_step_series() -> None:
    series = [(at(10), 0.1), (at(0), 0.0), (at(20), 0.2)]
    assert value_at(series, at(-1)) is None
    assert value_at(series, at(0)) == (at(0), 0.0)
    assert value_at(series, at(15)) == (at(10), 0.1)
    assert value_at(series, at(99)) == (at(20), 0.2)


def test_trend_compares_with_the_value_in_force_a_window_ago() -> None:
    series = [(at(0), 0.1), (at(50), 0.3), (at(100), 0.5)]
    # At day 140 the window starts at day 50.
    assert trend(0.9, series, now=at(140), window=WINDOW) == pytest.approx(0.6)
    assert trend(0.0, series, now=at(200), window=WINDOW) == pytest.approx(-0.5)


def test_a_series_younger_than_the_window_has_no_trend_yet() -> None:
    series = [(at(30), 0.2), (at(40), 0.4)]
    assert baseline(series, now=at(119), window=WINDOW) is None
    assert trend(0.7, series, now=at(119), window=WINDOW) is None
    assert baseline(series, now=at(120), window=WINDOW) == (at(30), 0.2)
    assert trend(0.7, series, now=at(120), window=WINDOW) == pytest.approx(0.5)
    assert trend(0.7, [], now=at(60), window=WINDOW) is None


def test_peak_within_counts_the_value_held_at_the_window_start() -> None:
    window = DEFAULT_THRESHOLDS.drop_window
    series = [(at(0), 0.8), (at(100), 0.2)]
    # 0.8 was held until day 100, so it was held at the window start (day 70).
    assert peak_within(series, now=at(100), window=window) == (at(70), 0.8)
    # By day 140 the window starts at day 110, after the drop.
    assert peak_within(series, now=at(140), window=window) == (at(110), 0.2)
    assert peak_within([], now=at(140), window=window) is None


def test_peak_within_prefers_the_latest_of_equal_values() -> None:
    series = [(at(90), 0.5), (at(95), 0.1), (at(99), 0.5), (at(100), -0.5)]
    assert peak_within(series, now=at(100), window=DEFAULT_THRESHOLDS.drop_window) == (at(99), 0.5)
