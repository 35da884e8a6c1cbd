"""Incremental time-decayed state of one stakeholder (or one stakeholder on one dimension).

The state is a decayed sum anchored at ``ref``, the time of the newest answer it holds:

    S = Σ x_i · 0.5 ** ((ref - t_i) / half_life)      W = Σ 0.5 ** ((ref - t_i) / half_life)
    Q = Σ x_i² · 0.5 ** ((ref - t_i) / half_life)

Position = S / W (influence and decay cancel inside one person); confidence at t ≥ ref is
1 - 0.5 ** (W · 0.5 ** ((t - ref) / half_life)); Q / W - (S / W)² is the spread of the person's own
answers around their position, the evidence the model has of how noisy one answer is.

Adding an answer at any time, including a late one older than ``ref``, and removing one are O(1),
and the result does not depend on the order of the
operations (up to float rounding, ~1e-15 relative). Numerical choices:

- Anchoring at the newest answer keeps W ≥ 1 whenever the state holds its newest answer, so W never
  underflows and the division S / W is always well conditioned.
- Very old answers get weight 0.5 ** (age / half_life), which underflows to exactly 0.0 after about
  1074 half-lives (265 years at 90 days); adding or removing such an answer is then a no-op either
  way, so orders still agree.
- Removing an answer subtracts its weight. Inside ``replace`` the replacing answer is never older,
  so W only grows and nothing cancels. A stand-alone ``remove`` of the newest answer leaves the older
  ones, whose W may be far below 1; the result is then accurate to ~1e-16 / W relative, i.e. still
  1e-9 while the remaining answers are younger than ~20 half-lives (5 years at 90 days), long after
  their confidence has fallen to nothing.
- Removing the last answer resets the state to exactly empty instead of keeping rounding residue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

DEFAULT_HALF_LIFE: Final = timedelta(days=90)
_LN2: Final = math.log(2.0)


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """Which version of an answer this is: the latest ``occurred_at`` wins, ties by ``event_id``."""

    occurred_at: datetime
    event_id: str


def supersedes(held: Version | None, new: Version) -> bool:
    """Whether ``new`` replaces the ``held`` version of the same answer (False for a replay or older)."""
    # Tuple order: later time wins; at the same instant the larger event id wins, so every arrival
    # order picks the same version. An equal version is a replay and changes nothing.
    return held is None or new > held


@dataclass(frozen=True, slots=True)
class Answer:
    """One normalised answer: value on -1 … +1, its event time and the event that carried it."""

    value: float
    at: datetime
    event_id: str

    @property
    def version(self) -> Version:
        """The version key used to decide which of two versions of an answer counts."""
        return Version(self.at, self.event_id)


def decay(elapsed: timedelta, half_life: timedelta = DEFAULT_HALF_LIFE) -> float:
    """The factor 0.5 ** (elapsed / half_life); 1.0 for no elapsed time, 0.0 once it underflows."""
    if half_life <= timedelta(0):
        raise ValueError("half_life must be positive")
    # timedelta / timedelta divides whole microseconds, so the exponent is the same in every order.
    return math.exp2(-(elapsed / half_life))


def confidence_from_weight(weight: float) -> float:
    """1 - 0.5 ** weight, accurate also for tiny weights (one fresh answer, weight 1, gives 0.5)."""
    # expm1 keeps the digits that 1 - 0.5**w would lose when w is small.
    return -math.expm1(-weight * _LN2)


@dataclass(frozen=True, slots=True)
class DecayedState:
    """Decayed weighted sum ``s``, weight ``w``, sum of squares ``q`` (all at ``ref``) and count ``n``."""

    s: float = 0.0
    w: float = 0.0
    n: int = 0
    ref: datetime | None = None
    q: float = 0.0

    @property
    def position(self) -> float | None:
        """The decayed mean S / W on -1 … +1, None while nothing is held or every weight underflowed."""
        if self.n == 0 or self.w <= 0.0:
            return None
        # Rounding can push a mean of values in -1 … +1 a hair outside; keep it on the scale.
        return min(1.0, max(-1.0, self.s / self.w))

    @property
    def spread(self) -> float | None:
        """The decayed variance of the held answers around the position (None below two answers)."""
        if self.n < 2 or self.w <= 0.0:
            return None
        mean = self.s / self.w
        # Rounding can leave a hair below zero when every answer is the same.
        return max(0.0, self.q / self.w - mean * mean)

    def weight_at(self, at: datetime, half_life: timedelta = DEFAULT_HALF_LIFE) -> float:
        """Σ 0.5 ** ((at - t_i) / half_life): the evidence held, as of ``at`` (clamped to ``ref``)."""
        if self.ref is None:
            return 0.0
        return self.w * decay(max(at - self.ref, timedelta(0)), half_life)

    def confidence_at(self, at: datetime, half_life: timedelta = DEFAULT_HALF_LIFE) -> float:
        """1 - 0.5 ** weight_at(at); times before ``ref`` read as ``ref`` (the state cannot rewind)."""
        return confidence_from_weight(self.weight_at(at, half_life))


EMPTY: Final = DecayedState()


def rebase(state: DecayedState, at: datetime, half_life: timedelta = DEFAULT_HALF_LIFE) -> DecayedState:
    """Move the anchor forward to ``at`` (no-op if ``at`` ≤ ``ref``), scaling S and W down."""
    if state.ref is None or at <= state.ref:
        return state
    factor = decay(at - state.ref, half_life)
    return DecayedState(state.s * factor, state.w * factor, state.n, at, state.q * factor)


def add(state: DecayedState, answer: Answer, half_life: timedelta = DEFAULT_HALF_LIFE) -> DecayedState:
    """Hold one more answer, whatever its time relative to ``ref``."""
    state = rebase(state, answer.at, half_life)
    if state.ref is None:
        return DecayedState(answer.value, 1.0, 1, answer.at, answer.value * answer.value)
    weight = decay(state.ref - answer.at, half_life)
    return DecayedState(
        state.s + answer.value * weight,
        state.w + weight,
        state.n + 1,
        state.ref,
        state.q + answer.value * answer.value * weight,
    )


def remove(state: DecayedState, answer: Answer, half_life: timedelta = DEFAULT_HALF_LIFE) -> DecayedState:
    """Stop holding an answer that was added before (the anchor stays where it is)."""
    if state.n == 0 or state.ref is None:
        raise ValueError("cannot remove an answer from an empty state")
    if answer.at > state.ref:
        raise ValueError("cannot remove an answer newer than any the state holds")
    if state.n == 1:
        return EMPTY
    weight = decay(state.ref - answer.at, half_life)
    # W cannot truly drop below zero; clamp the rounding residue of removing a dominant answer.
    return DecayedState(
        state.s - answer.value * weight,
        max(state.w - weight, 0.0),
        state.n - 1,
        state.ref,
        max(state.q - answer.value * answer.value * weight, 0.0),
    )


def replace(
    state: DecayedState,
    old: Answer,
    new: Answer,
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> DecayedState:
    """Swap the held version ``old`` of an answer for ``new`` (same count, anchor may move forward)."""
    if state.n == 1:
        # The answer being replaced is the only one: start afresh, exactly.
        return add(EMPTY, new, half_life)
    state = rebase(state, new.at, half_life)
    return add(remove(state, old, half_life), new, half_life)


def apply_answer(
    state: DecayedState,
    new: Answer,
    *,
    held: Answer | None,
    half_life: timedelta = DEFAULT_HALF_LIFE,
) -> tuple[DecayedState, bool]:
    """Fold one version of an answer into ``state``; returns the state and whether it changed.

    ``held`` is the version of the same answer (same ``response_id``) the state already holds, if any.
    An older version or a replay of the held one changes nothing.
    """
    if held is None:
        return add(state, new, half_life), True
    if not supersedes(held.version, new.version):
        return state, False
    return replace(state, held, new, half_life), True
