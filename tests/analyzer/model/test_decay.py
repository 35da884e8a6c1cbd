"""The incremental decayed state: arithmetic, versions, and independence from arrival order."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analyzer.model import (
    DEFAULT_HALF_LIFE,
    EMPTY,
    Answer,
    DecayedState,
    Version,
    add,
    apply_answer,
    rebase,
    remove,
    replace,
    supersedes,
)
from services.analyzer.model.decay import confidence_from_weight, decay
from tests.analyzer.model.factories import at, create_answer, create_state

TOLERANCE = 1e-9


def test_empty_state_has_no_position_and_no_confidence() -> None:
    assert EMPTY.position is None
    assert EMPTY.confidence_at(at(0)) == 0.0
    assert EMPTY.weight_at(at(0)) == 0.0


def test_one_fresh_answer_gives_its_value_and_confidence_one_half() -> None:
    state = create_state((0.8, 0))
    assert state.position == 0.8
    assert state.confidence_at(at(0)) == pytest.approx(0.5)
    assert state.n == 1
    assert state.ref == at(0)


def test_confidence_fades_with_the_half_life() -> None:
    state = create_state((0.8, 0))
    # After one half-life the weight is 0.5, so confidence is 1 - 2**-0.5.
    assert state.confidence_at(at(90)) == pytest.approx(1 - 2**-0.5)
    assert state.weight_at(at(180)) == pytest.approx(0.25)
    # The position itself does not fade: decay cancels inside one person.
    assert state.position == 0.8


def test_confidence_before_ref_reads_as_at_ref() -> None:
    state = create_state((0.8, 10))
    assert state.confidence_at(at(0)) == state.confidence_at(at(10))


def test_newer_answers_weigh_more() -> None:
    state = create_state((1.0, 0), (-1.0, 90))
    # Weights 0.5 and 1: (0.5 - 1) / 1.5.
    assert state.position == pytest.approx(-1 / 3)
    assert state.weight_at(at(90)) == pytest.approx(1.5)


def test_late_arrival_counts_as_if_in_order() -> None:
    in_order = create_state((1.0, 0), (-1.0, 90))
    late = create_state((-1.0, 90), (1.0, 0))
    assert late.ref == in_order.ref
    assert late.position == pytest.approx(in_order.position, abs=TOLERANCE)
    assert late.w == pytest.approx(in_order.w, rel=TOLERANCE)


def test_remove_undoes_add() -> None:
    state = create_state((0.5, 0), (-0.2, 30))
    old = create_answer(1.0, 10)
    assert remove(add(state, old), old).position == pytest.approx(state.position, abs=TOLERANCE)


def test_remove_last_answer_gives_exactly_empty() -> None:
    answer = create_answer(0.3, 5)
    assert remove(add(EMPTY, answer), answer) == EMPTY


def test_remove_is_refused_from_empty_or_for_answers_never_held() -> None:
    with pytest.raises(ValueError, match="empty"):
        remove(EMPTY, create_answer(0.3, 5))
    with pytest.raises(ValueError, match="newer"):
        remove(create_state((0.1, 0), (0.2, 1)), create_answer(0.3, 5))


def test_replace_swaps_versions_and_moves_the_anchor() -> None:
    old, new = create_answer(1.0, 0, "v1"), create_answer(-1.0, 30, "v2")
    state = replace(add(create_state((0.5, 10)), old), old, new)
    expected = create_state((0.5, 10), (-1.0, 30))
    assert state.n == 2
    assert state.ref == at(30)
    assert state.position == pytest.approx(expected.position, abs=TOLERANCE)


def test_replace_of_the_only_answer_starts_afresh_exactly() -> None:
    old, new = create_answer(1.0, 0, "v1"), create_answer(-0.4, 3, "v2")
    assert replace(add(EMPTY, old), old, new) == add(EMPTY, new)


def test_rebase_never_moves_backwards() -> None:
    state = create_state((0.5, 10))
    assert rebase(state, at(5)) is state
    moved = rebase(state, at(100))
    assert moved.ref == at(100)
    assert moved.w == pytest.approx(0.5)
    assert moved.position == pytest.approx(0.5)


def test_decay_refuses_a_non_positive_half_life() -> None:
    with pytest.raises(ValueError, match="half_life"):
        decay(timedelta(days=1), timedelta(0))


def test_answers_centuries_old_underflow_to_nothing_in_any_order() -> None:
    ancient = create_answer(-1.0, -400 * 365, "ancient")
    fresh = create_answer(0.6, 0, "fresh")
    forwards = add(add(EMPTY, ancient), fresh)
    backwards = add(add(EMPTY, fresh), ancient)
    assert forwards.position == backwards.position == pytest.approx(0.6)
    assert forwards.n == backwards.n == 2
    # An ancient answer alone still has a position but no confidence at all.
    assert add(EMPTY, ancient).confidence_at(at(0)) == 0.0


def test_confidence_from_weight_is_accurate_for_tiny_weights() -> None:
    assert confidence_from_weight(1.0) == pytest.approx(0.5)
    assert confidence_from_weight(1e-20) == pytest.approx(1e-20 * math.log(2), rel=1e-12)
    assert confidence_from_weight(0.0) == 0.0


def test_version_order_later_time_wins_then_larger_event_id() -> None:
    early, late = Version(at(0), "zzz"), Version(at(1), "aaa")
    assert supersedes(early, late)
    assert not supersedes(late, early)
    assert supersedes(Version(at(0), "a"), Version(at(0), "b"))
    assert not supersedes(Version(at(0), "b"), Version(at(0), "a"))
    assert not supersedes(late, late), "a replay is not a new version"
    assert supersedes(None, early)


def test_apply_answer_ignores_older_versions_and_replays() -> None:
    v1, v2 = create_answer(0.9, 0, "v1"), create_answer(-0.9, 5, "v2")
    state, changed = apply_answer(EMPTY, v2, held=None)
    assert changed
    assert apply_answer(state, v1, held=v2) == (state, False)
    assert apply_answer(state, v2, held=v2) == (state, False)


# --- order independence -------------------------------------------------------------------------

# An answer in a stream: (response id, seconds after the start, value, event id). The event id is
# unique per distinct version; replays repeat a whole tuple.
Item = tuple[str, int, float, str]

YEARS = 365 * 86_400


def _process(items: list[Item], half_life: timedelta = DEFAULT_HALF_LIFE) -> tuple[DecayedState, dict[str, Answer]]:
    """What the caller does per event: keep the held version per response id, fold into the state."""
    held: dict[str, Answer] = {}
    state = EMPTY
    for response_id, seconds, value, event_id in items:
        answer = Answer(value, at(0) + timedelta(seconds=seconds), event_id)
        state, changed = apply_answer(state, answer, held=held.get(response_id), half_life=half_life)
        if changed:
            held[response_id] = answer
    return state, held


def _reference(items: list[Item], half_life: timedelta = DEFAULT_HALF_LIFE) -> tuple[float, float, int]:
    """S and W at the newest held time, computed from scratch over the winning versions."""
    latest: dict[str, Answer] = {}
    for response_id, seconds, value, event_id in items:
        answer = Answer(value, at(0) + timedelta(seconds=seconds), event_id)
        if supersedes(latest[response_id].version if response_id in latest else None, answer.version):
            latest[response_id] = answer
    ref = max(a.at for a in latest.values())
    weights = [(a.value, decay(ref - a.at, half_life)) for a in latest.values()]
    return math.fsum(v * w for v, w in weights), math.fsum(w for _, w in weights), len(latest)


def _assert_same(state: DecayedState, other_s: float, other_w: float, n: int) -> None:
    assert state.n == n
    assert state.w == pytest.approx(other_w, rel=TOLERANCE, abs=TOLERANCE)
    assert state.s == pytest.approx(other_s, rel=TOLERANCE, abs=TOLERANCE)
    if other_w > 0:
        assert state.position == pytest.approx(max(-1.0, min(1.0, other_s / other_w)), abs=TOLERANCE)


def _streams(max_seconds: int) -> st.SearchStrategy[list[Item]]:
    version = st.tuples(
        st.sampled_from(["r1", "r2", "r3", "r4", "r5", "r6"]),
        # Few distinct times as well as many, so that same-instant versions (ties) come up.
        st.one_of(st.sampled_from([0, 86_400, 90 * 86_400]), st.integers(0, max_seconds)),
        st.floats(-1, 1, allow_nan=False),
    )
    return st.lists(version, min_size=1, max_size=40).map(
        lambda rows: [(rid, sec, val, f"ev-{i:03d}") for i, (rid, sec, val) in enumerate(rows)]
    )


@settings(max_examples=300)
@given(items=_streams(3 * YEARS), data=st.data())
def test_any_permutation_gives_the_in_order_state(items: list[Item], data: st.DataObject) -> None:
    in_order, _ = _process(sorted(items, key=lambda i: (i[1], i[3])))
    shuffled, _ = _process(data.draw(st.permutations(items)))
    s, w, n = _reference(items)
    assert shuffled.ref == in_order.ref
    _assert_same(in_order, s, w, n)
    _assert_same(shuffled, in_order.s, in_order.w, in_order.n)
    moment = at(0) + timedelta(seconds=4 * YEARS)
    assert shuffled.confidence_at(moment) == pytest.approx(in_order.confidence_at(moment), rel=TOLERANCE, abs=1e-15)


@settings(max_examples=200)
@given(items=_streams(3 * YEARS), data=st.data())
def test_replays_change_nothing(items: list[Item], data: st.DataObject) -> None:
    replays = data.draw(st.lists(st.sampled_from(items), max_size=20))
    once, held_once = _process(items)
    twice, held_twice = _process(data.draw(st.permutations(items + replays)))
    assert held_twice == held_once
    _assert_same(twice, once.s, once.w, once.n)


@settings(max_examples=100)
@given(items=_streams(600 * YEARS), data=st.data())
def test_order_independence_holds_across_centuries_of_underflow(items: list[Item], data: st.DataObject) -> None:
    in_order, _ = _process(sorted(items, key=lambda i: (i[1], i[3])))
    shuffled, _ = _process(data.draw(st.permutations(items)))
    s, w, n = _reference(items)
    _assert_same(shuffled, s, w, n)
    _assert_same(in_order, s, w, n)


@settings(max_examples=100)
@given(items=_streams(2 * YEARS), half_life_days=st.integers(1, 400), data=st.data())
def test_order_independence_for_any_half_life(items: list[Item], half_life_days: int, data: st.DataObject) -> None:
    half_life = timedelta(days=half_life_days)
    shuffled, _ = _process(data.draw(st.permutations(items)), half_life)
    s, w, n = _reference(items, half_life)
    _assert_same(shuffled, s, w, n)


@given(items=_streams(3 * YEARS))
def test_weight_is_at_least_one_while_the_newest_answer_is_held(items: list[Item]) -> None:
    state, _ = _process(items)
    assert state.w >= 1.0 - TOLERANCE
    assert state.position is not None
    assert -1.0 <= state.position <= 1.0
