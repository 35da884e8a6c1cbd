"""Folding one version of an answer into the decayed states it belongs to.

An answer counts in two states: its stakeholder's (key ``(stakeholder_id, None)``) and its
stakeholder's on its dimension (key ``(stakeholder_id, dimension)``). Several events with the same
``response_id`` are versions of one answer; the latest by ``(occurred_at, event_id)`` counts, so a
newer version swaps out the held one, even if it names another stakeholder or dimension.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from services.analyzer.model.decay import (
    DEFAULT_HALF_LIFE,
    EMPTY,
    Answer,
    DecayedState,
    add,
    remove,
    replace,
    supersedes,
)
from services.analyzer.model.positions import dimension_key

StateKey = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class HeldAnswer:
    """The version of one answer that counts, and where it counts (persist one per response id)."""

    answer: Answer
    stakeholder_id: str
    dimension: str

    @classmethod
    def of(cls, answer: Answer, *, stakeholder_id: str, dimension: str | None) -> HeldAnswer:
        """An answer of ``stakeholder_id`` on ``dimension`` (``overall`` when it names none)."""
        return cls(answer, stakeholder_id, dimension_key(dimension))

    @property
    def keys(self) -> tuple[StateKey, StateKey]:
        """The person's overall state and the person's state on this dimension."""
        return ((self.stakeholder_id, None), (self.stakeholder_id, self.dimension))


def state_keys(new: HeldAnswer, held: HeldAnswer | None) -> set[StateKey]:
    """Every state ``fold_answer`` may read or write for this answer: load these first."""
    return set(new.keys) | (set(held.keys) if held is not None else set())


def fold_answer(
    new: HeldAnswer,
    *,
    held: HeldAnswer | None,
    states: Mapping[StateKey, DecayedState],
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> dict[StateKey, DecayedState] | None:
    """The states that change when ``new`` arrives, or None when it does not count (older, replay).

    ``held`` is the version of the same answer counted so far; ``states`` holds (at least) the states
    of ``state_keys(new, held)``, missing ones read as empty. Store every returned state, and ``new``
    as the held version of its response id.
    """
    if held is not None and not supersedes(held.answer.version, new.answer.version):
        return None
    changed: dict[StateKey, DecayedState] = {}

    def current(key: StateKey) -> DecayedState:
        return changed.get(key, states.get(key, EMPTY))

    for new_key, old_key in zip(new.keys, held.keys if held is not None else (None, None), strict=True):
        if held is not None and old_key == new_key:
            changed[new_key] = replace(current(new_key), held.answer, new.answer, half_life)
            continue
        if held is not None and old_key is not None:
            # The answer moved to another person or dimension: take it out where it was.
            changed[old_key] = remove(current(old_key), held.answer, half_life)
        changed[new_key] = add(current(new_key), new.answer, half_life)
    return changed
