"""The account state's one encoding: a typed state survives the database document unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.analyzer.db.account_state_codec import decode, encode
from services.analyzer.model import DEFAULT_HALF_LIFE, Answer, HeldAnswer
from services.analyzer.model.account_state import AccountState

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def folded() -> AccountState:
    state = AccountState()
    plus_two = timezone(timedelta(hours=2))
    for i, (person, dimension, value) in enumerate(
        [("ann", None, 0.8), ("bob", "value", -0.4), ("ann", "support", 0.2), ("bob", None, -0.6)]
    ):
        at = (T0 + timedelta(days=9 * i)).astimezone(plus_two if i % 2 else UTC)
        answer = HeldAnswer.of(Answer(value, at, f"ev-{i}"), stakeholder_id=person, dimension=dimension)
        state.fold(
            answer,
            held=None,
            metric="nps",
            score=9,
            half_life=DEFAULT_HALF_LIFE,
        )
    state.note_moment("renewal_approach", T0 + timedelta(days=40))
    state.divergence_series.append((T0, 0.1 / 3))
    state.mean_series.append((T0, 1 / 3))
    state.decider_series.append((T0, 0.7))
    state.role_series["it"] = [(T0, -0.25)]
    state.risk_series.append((T0, 0.125))
    state.predictions[T0 + timedelta(days=90)] = 0.4
    return state


def test_a_state_round_trips_exactly() -> None:
    state = folded()
    assert decode(encode(state)) == state
    assert encode(decode(encode(state))) == encode(state)


def test_an_empty_or_missing_document_is_an_empty_state() -> None:
    assert decode(None) == AccountState()
    assert decode({}) == AccountState()
    assert decode(encode(AccountState())) == AccountState()


def test_the_document_layout_is_the_one_existing_rows_have() -> None:
    document = encode(folded())
    assert set(document) == {
        "states",
        "classic",
        "history",
        "evidence",
        "divergence_series",
        "mean_series",
        "decider_series",
        "role_series",
        "risk_series",
        "predictions",
        "renewal_moment_at",
    }
    assert "ann\x1f" in document["states"]
    assert "bob\x1fvalue" in document["states"]
    assert document["classic"]["ann\x1fnps"][3] == "ev-2"


def test_a_state_written_before_answer_noise_reads_as_outdated() -> None:
    """A document whose states have no ``q`` (an earlier model) is flagged for a rebuild."""
    document = encode(folded())
    assert not decode(document).outdated
    document["states"] = {key: value[:4] for key, value in document["states"].items()}
    old = decode(document)
    assert old.outdated
    # Its states read with no spread until the rebuild recomputes them.
    assert all(state.spread in (None, 0.0) for state in old.states.values())
