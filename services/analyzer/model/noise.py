"""How noisy one answer is: the spread of people's own repeated answers, pooled over an account.

A person who answers 8, 7, 9 about the same supplier has not changed their mind three times: survey
answers are noisy readings of an opinion. The model measures that noise from the data, as the
decayed variance of each client person's answers around their own position (``DecayedState.spread``),
pooled over the account's people with a prior: ``prior_answers`` pseudo-answers at the documented
default (0.2 on the -1 … +1 scale, one NPS point). An account with few repeated answers reads as the
default; one with many reads as itself. Slow real drift inside a half-life counts as noise too, which
makes the estimate, and so every interval built on it, err on the wide (cautious) side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

from services.analyzer.model.decay import DecayedState

# Cap on how many answers one person contributes, so that one chatty end user does not set the
# noise of a whole account.
MAX_DOF_PER_PERSON: Final = 8


def answer_noise(states: Iterable[DecayedState], *, default: float, prior_answers: float) -> float:
    """The standard deviation of one answer on -1 … +1, from people's own spread and the prior."""
    weighted = prior_answers * default * default
    dof = prior_answers
    for state in states:
        spread = state.spread
        if spread is None:
            continue
        own = min(state.n - 1, MAX_DOF_PER_PERSON)
        # n / (n - 1): the spread around a mean estimated from the same answers reads small.
        weighted += own * spread * state.n / (state.n - 1)
        dof += own
    return math.sqrt(weighted / dof) if dof > 0 else default
