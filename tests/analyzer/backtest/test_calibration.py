"""Calibration of the renewal risk: Brier scores and deciles on hand-made predictions."""

from __future__ import annotations

import random

import pytest

from services.analyzer.backtest.calibration import GROUPS, Calibration, Group, calibrate


def test_no_renewals_give_an_empty_calibration() -> None:
    assert calibrate([]) == Calibration(0, 0, None, None, ())


def test_perfect_predictions_score_zero() -> None:
    found = calibrate([(1.0, True), (0.0, False), (1.0, True), (0.0, False)])
    assert found.brier == 0.0
    assert (found.renewals, found.bad) == (4, 2)


@pytest.mark.parametrize(("bad", "total"), [(1, 4), (3, 10), (5, 10), (9, 10)])
def test_always_saying_the_base_rate_scores_b_times_one_minus_b(bad: int, total: int) -> None:
    base = bad / total
    found = calibrate([(base, i < bad) for i in range(total)])
    assert found.brier == pytest.approx(base * (1 - base))
    assert found.brier_base_rate == pytest.approx(base * (1 - base))
    assert found.bad == bad


def test_the_base_rate_is_the_score_to_beat() -> None:
    # Predictions that tell the bad renewals apart score below the base rate's b(1 - b).
    pairs = [(0.8, True), (0.7, True), (0.2, False), (0.1, False), (0.3, False), (0.6, True)]
    found = calibrate(pairs)
    assert found.brier is not None
    assert found.brier_base_rate is not None
    assert found.brier_base_rate == pytest.approx(0.25)
    assert found.brier < found.brier_base_rate
    # The same predictions the wrong way round score worse than the base rate.
    flipped = calibrate([(1 - p, bad) for p, bad in pairs])
    assert flipped.brier is not None
    assert flipped.brier > 0.25


def test_deciles_have_equal_sizes_and_ordered_predictions() -> None:
    rng = random.Random(5)
    pairs = [(p, rng.random() < p) for p in (rng.random() for _ in range(200))]
    found = calibrate(pairs)
    assert len(found.groups) == GROUPS
    assert [g.renewals for g in found.groups] == [20] * GROUPS
    means = [g.predicted for g in found.groups]
    assert means == sorted(means)
    # Each group's mean is of the predictions it holds: the lowest twenty first.
    lowest = sorted(p for p, _ in pairs)[:20]
    assert found.groups[0].predicted == pytest.approx(sum(lowest) / 20)
    assert sum(g.observed * g.renewals for g in found.groups) == pytest.approx(found.bad)


@pytest.mark.parametrize("n", [25, 31, 99])
def test_deciles_differ_in_size_by_at_most_one(n: int) -> None:
    found = calibrate([(i / n, i % 3 == 0) for i in range(n)])
    sizes = [g.renewals for g in found.groups]
    assert sum(sizes) == n
    assert max(sizes) - min(sizes) <= 1
    assert [g.predicted for g in found.groups] == sorted(g.predicted for g in found.groups)


def test_fewer_renewals_than_groups_give_one_group_each() -> None:
    found = calibrate([(0.9, True), (0.1, False), (0.5, True)])
    assert found.groups == (Group(1, 0.1, 0.0), Group(1, 0.5, 1.0), Group(1, 0.9, 1.0))


def test_a_calibrated_risk_matches_what_happened_in_each_group() -> None:
    # Within each decile, the share that went badly is about the mean prediction.
    rng = random.Random(8)
    pairs = [(p, rng.random() < p) for p in (rng.random() for _ in range(20_000))]
    for group in calibrate(pairs).groups:
        assert group.observed == pytest.approx(group.predicted, abs=0.05)
