"""Folding answer versions into states, assembling snapshots, and account-level order independence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analyzer.model import (
    EMPTY,
    AccountSnapshot,
    HeldAnswer,
    StakeholderRecord,
    build_snapshot,
    fold_answer,
    state_keys,
)
from tests.analyzer.model.factories import at, create_answer, create_state
from tests.analyzer.model.ledger import AccountLedger, Person

TOLERANCE = 1e-9


def held(
    value: float, day: float, event_id: str, stakeholder_id: str = "jane", dimension: str | None = None
) -> HeldAnswer:
    """An answer version as the caller persists it."""
    return HeldAnswer.of(create_answer(value, day, event_id), stakeholder_id=stakeholder_id, dimension=dimension)


def test_a_first_answer_counts_in_the_person_and_the_dimension() -> None:
    new = held(0.6, 0, "ev-1", dimension="support")
    assert state_keys(new, None) == {("jane", None), ("jane", "support")}
    changed = fold_answer(new, held=None, states={})
    assert changed is not None
    assert changed[("jane", None)].position == changed[("jane", "support")].position == 0.6


def test_an_answer_without_dimension_counts_under_overall() -> None:
    changed = fold_answer(held(0.6, 0, "ev-1"), held=None, states={})
    assert changed is not None
    assert set(changed) == {("jane", None), ("jane", "overall")}


def test_an_older_version_or_a_replay_changes_nothing() -> None:
    newer = held(0.6, 5, "ev-2")
    assert fold_answer(held(-0.6, 1, "ev-1"), held=newer, states={}) is None
    assert fold_answer(newer, held=newer, states={}) is None


def test_a_newer_version_replaces_the_held_one() -> None:
    old, new = held(1.0, 0, "ev-1"), held(-1.0, 10, "ev-2")
    states = fold_answer(old, held=None, states={})
    assert states is not None
    changed = fold_answer(new, held=old, states=states)
    assert changed is not None
    assert changed[("jane", None)].n == 1
    assert changed[("jane", None)].position == -1.0


def test_a_version_that_names_another_person_and_dimension_moves_the_answer() -> None:
    other = create_state((0.2, 0))
    old = held(1.0, 1, "ev-1", "jane", "support")
    states = {("jane", None): create_state((1.0, 1)), ("jane", "support"): create_state((1.0, 1)), ("joe", None): other}
    new = held(-1.0, 2, "ev-2", "joe", "value")
    assert state_keys(new, old) == {("jane", None), ("jane", "support"), ("joe", None), ("joe", "value")}
    changed = fold_answer(new, held=old, states=states)
    assert changed is not None
    assert changed[("jane", None)] == changed[("jane", "support")] == EMPTY
    assert changed[("joe", None)].n == 2
    assert changed[("joe", "value")].position == -1.0


def test_build_snapshot_pools_people_into_roles_sides_and_dimensions() -> None:
    records = [
        StakeholderRecord(
            "p", "procurement", "client", 1.0, create_state((0.8, 100)), {"value": create_state((0.8, 100))}
        ),
        StakeholderRecord("i", "it", "client", 1.0, create_state((-0.2, 100)), {"support": create_state((-0.2, 100))}),
        StakeholderRecord("u", "unassigned", "client", 1.0, create_state((-1.0, 100))),
        StakeholderRecord(
            "s", "other", "supplier", 1.0, create_state((0.9, 100)), {"support": create_state((0.9, 100))}
        ),
    ]
    snapshot = build_snapshot(
        account_id="acme",
        as_of=at(100),
        stakeholders=records,
        divergence_series=[(at(0), 0.4)],
        mean_series=[(at(0), 0.1)],
    )
    assert [(r.role, r.position) for r in snapshot.roles] == [("it", -0.2), ("procurement", 0.8)]
    assert [(r.role, r.position) for r in snapshot.supplier_roles] == [("other", 0.9)]
    assert snapshot.account_mean == pytest.approx(0.3)
    assert snapshot.account_mean_before == 0.1
    assert snapshot.divergence is not None
    assert snapshot.divergence.gap == pytest.approx(1.0)
    assert snapshot.trend == pytest.approx(0.6)
    assert snapshot.dispersion == pytest.approx(0.5)
    assert snapshot.supplier_side is not None
    assert snapshot.supplier_side.position == 0.9
    dims = {d.dimension: d for d in snapshot.dimensions}
    assert dims["support"].client is not None
    assert dims["support"].supplier is not None
    assert (dims["support"].client.position, dims["support"].supplier.position) == (-0.2, 0.9)
    assert dims["value"].supplier is None
    assert snapshot.nps is None


def test_build_snapshot_finds_drops_of_client_people_within_the_window() -> None:
    state = create_state((0.8, 0), (-0.8, 95))
    history = ((at(0), 0.8), (at(95), state.position or 0.0))
    records = [
        StakeholderRecord("i", "it", "client", 1.0, state, history=history),
        StakeholderRecord("s", "other", "supplier", 1.0, state, history=history),
        StakeholderRecord("p", "procurement", "client", 1.0, create_state((0.5, 95)), history=((at(95), 0.5),)),
    ]
    snapshot = build_snapshot(account_id="acme", as_of=at(100), stakeholders=records)
    (change,) = snapshot.drops
    assert (change.stakeholder_id, change.peak, change.peak_at) == ("i", 0.8, at(70))
    assert change.drop == pytest.approx(0.8 - (state.position or 0.0))
    later = build_snapshot(account_id="acme", as_of=at(130), stakeholders=records)
    assert later.drops == ()


def test_trend_is_unknown_without_a_divergence() -> None:
    records = [StakeholderRecord("p", "procurement", "client", 1.0, create_state((0.8, 0)))]
    snapshot = build_snapshot(account_id="acme", as_of=at(0), stakeholders=records, divergence_series=[(at(0), 0.5)])
    assert snapshot.divergence is None
    assert snapshot.trend is None


# --- account-level order independence -----------------------------------------------------------

PEOPLE = {
    "p1": Person("procurement", influence=2.0),
    "i1": Person("it"),
    "i2": Person("it", influence=0.5),
    "f1": Person("finance"),
    "u1": Person("unassigned"),
    "s1": Person("other", side="supplier"),
}
Event = tuple[str, str, str | None, int, float, str]


def events() -> st.SearchStrategy[list[Event]]:
    """Answer versions: (response id, stakeholder, dimension, seconds, value, event id)."""
    row = st.tuples(
        st.sampled_from([f"r{i}" for i in range(8)]),
        st.sampled_from(sorted(PEOPLE)),
        st.sampled_from([None, "support", "value"]),
        st.one_of(st.sampled_from([0, 86_400 * 30]), st.integers(0, 86_400 * 700)),
        st.floats(-1, 1),
    )
    return st.lists(row, min_size=1, max_size=30).map(lambda rows: [(*r, f"ev-{i:03d}") for i, r in enumerate(rows)])


def replay(stream: list[Event]) -> AccountLedger:
    """Process a stream of answer versions in the given order."""
    ledger = AccountLedger("acme", dict(PEOPLE))
    for rid, sid, dim, seconds, value, event_id in stream:
        when = at(0) + timedelta(seconds=seconds)
        ledger.answer(response_id=rid, stakeholder_id=sid, value=value, at=when, event_id=event_id, dimension=dim)
    return ledger


def figures(snapshot: AccountSnapshot) -> dict[str, float | None]:
    """Every order-independent figure of a snapshot, flattened."""
    flat: dict[str, float | None] = {"mean": snapshot.account_mean, "dispersion": snapshot.dispersion}
    flat["gap"] = None if snapshot.divergence is None else snapshot.divergence.gap
    for role in (*snapshot.roles, *snapshot.supplier_roles):
        flat[f"{role.side}:{role.role}"] = role.position
        flat[f"{role.side}:{role.role}:confidence"] = role.confidence
    for person in snapshot.stakeholders:
        flat[f"{person.stakeholder_id}"] = person.position
        flat[f"{person.stakeholder_id}:confidence"] = person.confidence
        flat[f"{person.stakeholder_id}:n"] = person.responses
    for dim in snapshot.dimensions:
        for name, side in (("client", dim.client), ("supplier", dim.supplier)):
            flat[f"{dim.dimension}:{name}"] = None if side is None else side.position
    return flat


def assert_same(a: dict[str, float | None], b: dict[str, float | None]) -> None:
    assert a.keys() == b.keys()
    for key, value in a.items():
        other = b[key]
        if value is None or other is None:
            assert value is None, key
            assert other is None, key
        else:
            assert value == pytest.approx(other, rel=TOLERANCE, abs=TOLERANCE), key


@settings(max_examples=200, deadline=None)
@given(stream=events(), data=st.data())
def test_account_figures_do_not_depend_on_arrival_order_or_replays(stream: list[Event], data: st.DataObject) -> None:
    in_order = replay(sorted(stream, key=lambda e: (e[3], e[5])))
    replays = data.draw(st.lists(st.sampled_from(stream), max_size=10))
    shuffled = replay(data.draw(st.permutations(stream + replays)))
    assert shuffled.held == in_order.held
    as_of = at(800)
    expected = in_order.snapshot(as_of)
    got = shuffled.snapshot(as_of)
    assert_same(figures(got), figures(expected))
    assert [p.evidence for p in got.stakeholders] == [p.evidence for p in expected.stakeholders]
    # From scratch: only the winning versions, each added once.
    fresh = replay([e for e in stream if e[5] == in_order.held[e[0]].answer.event_id])
    assert_same(figures(fresh.snapshot(as_of)), figures(expected))
