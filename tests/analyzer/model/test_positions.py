"""Stakeholder, role, side and account positions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.analyzer.model import (
    OVERALL_DIMENSION,
    account_mean,
    dimension_key,
    role_positions,
    side_position,
    stakeholder_position,
)
from services.analyzer.model.decay import confidence_from_weight
from services.analyzer.model.positions import pooled_confidence
from tests.analyzer.model.factories import at, create_person, create_role, create_state


def test_stakeholder_position_reads_the_state_as_of_a_time() -> None:
    state = create_state((0.8, 0), (0.2, 90))
    person = stakeholder_position("jane", state, role="it", side="client", influence=2.0, at=at(90))
    assert person.position == pytest.approx((0.8 * 0.5 + 0.2) / 1.5)
    assert person.confidence == pytest.approx(1 - 2**-1.5)
    assert person.responses == 2
    assert person.last_response_at == at(90)


def test_stakeholder_position_refuses_non_positive_influence() -> None:
    with pytest.raises(ValueError, match="influence"):
        stakeholder_position("jane", create_state((0.8, 0)), role="it", side="client", influence=0, at=at(0))


def test_influence_cancels_inside_one_stakeholder() -> None:
    state = create_state((0.8, 0), (-0.4, 30))
    light = stakeholder_position("a", state, role="it", side="client", influence=0.5, at=at(30))
    heavy = stakeholder_position("a", state, role="it", side="client", influence=5.0, at=at(30))
    assert light.position == heavy.position
    assert light.confidence == heavy.confidence


def test_role_position_weights_by_confidence_times_influence() -> None:
    people = [
        create_person("a", "it", 1.0, 0.5, influence=1.0),
        create_person("b", "it", -1.0, 0.25, influence=4.0),
    ]
    (role,) = role_positions(people)
    # Weights 0.5 and 1.0.
    assert role.position == pytest.approx((0.5 - 1.0) / 1.5)
    assert role.confidence == pytest.approx(1 - 0.5 * 0.75)
    assert role.stakeholders == 2


def test_unassigned_and_silent_people_count_in_no_role() -> None:
    people = [
        create_person("a", "it", 0.5),
        create_person("b", "unassigned", -1.0),
        create_person("c", "finance", None),
    ]
    assert [r.role for r in role_positions(people)] == ["it"]


def test_client_and_supplier_are_kept_apart() -> None:
    people = [
        create_person("a", "it", -0.5),
        create_person("s", "other", 0.9, side="supplier"),
        create_person("t", "it", 0.7, side="supplier"),
    ]
    client = role_positions(people)
    supplier = role_positions(people, side="supplier")
    assert [(r.role, r.position) for r in client] == [("it", -0.5)]
    assert [(r.role, r.position) for r in supplier] == [("it", 0.7), ("other", 0.9)]


def test_roles_whose_answers_have_all_decayed_fall_back_to_influence() -> None:
    people = [create_person("a", "it", 1.0, 0.0, influence=1.0), create_person("b", "it", 0.0, 0.0, influence=3.0)]
    (role,) = role_positions(people)
    assert role.position == pytest.approx(0.25)
    assert role.confidence == 0.0


@given(weights=st.lists(st.floats(0, 20), min_size=1, max_size=8))
def test_role_confidence_equals_pooling_every_answer(weights: list[float]) -> None:
    pooled = pooled_confidence(confidence_from_weight(w) for w in weights)
    assert pooled == pytest.approx(confidence_from_weight(math.fsum(weights)), abs=1e-12)


@given(
    people=st.lists(
        st.tuples(st.floats(-1, 1), st.floats(0.01, 1), st.floats(0.1, 10)),
        min_size=1,
        max_size=8,
    )
)
def test_role_position_lies_within_its_members(people: list[tuple[float, float, float]]) -> None:
    persons = [create_person(f"p{i}", "it", p, c, influence=w) for i, (p, c, w) in enumerate(people)]
    (role,) = role_positions(persons)
    assert min(p for p, _, _ in people) - 1e-12 <= role.position <= max(p for p, _, _ in people) + 1e-12


def test_account_mean_is_the_unweighted_mean_of_client_roles() -> None:
    roles = [
        create_role("procurement", 0.8, 0.9),
        create_role("it", -0.2, 0.3),
        create_role("finance", 0.5, 0.05),
        create_role("other", -1.0, 0.9, side="supplier"),
    ]
    assert account_mean(roles) == pytest.approx(1.1 / 3)
    assert account_mean([]) is None


def test_side_position_pools_role_confidence() -> None:
    side = side_position([create_role("it", 0.4, 0.5), create_role("finance", 0.0, 0.5)])
    assert side is not None
    assert side.position == pytest.approx(0.2)
    assert side.confidence == pytest.approx(0.75)
    assert side.roles == 2
    assert side_position([]) is None


def test_dimension_key_defaults_to_overall() -> None:
    assert dimension_key(None) == OVERALL_DIMENSION == "overall"
    assert dimension_key("") == "overall"
    assert dimension_key("support") == "support"
