"""The year of a divided account against an aligned one: which alerts fire, when, and what NPS said."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

import pytest

from services.analyzer.model import ALERT_TYPES, normalise_answer
from tests.analyzer.model.story import (
    END,
    RENEWAL,
    START,
    Entry,
    Event,
    Story,
    aligned_events,
    divided_events,
    run,
)


def first(log: list[Entry], type_: str, kind: str = "open") -> Entry:
    """The first delivered change of this kind to an alert of this type."""
    return next(e for e in log if e.transition.type == type_ and e.transition.kind == kind)


def days_before_renewal(entry: Entry) -> int:
    """How many days before the renewal date the change was delivered."""
    return (RENEWAL - entry.at.date()).days


def test_the_divergence_alerts_fire_months_before_renewal_while_nps_reads_fine() -> None:
    log = run(divided_events()).log
    split = first(log, "stakeholder_divergence")
    assert days_before_renewal(split) >= 150
    assert split.transition.condition is not None
    assert split.transition.condition.metrics["high_role"] == "procurement"
    assert split.transition.condition.metrics["low_role"] == "it"
    for type_ in ("masked_by_average", "divergence_widening", "position_drop", "perception_gap"):
        assert days_before_renewal(first(log, type_)) >= 150, type_
    # NPS at the moment each early alert fired: no lower than where the year began.
    start_nps = run(divided_events(), until=START + timedelta(days=7)).ledger.snapshot(START + timedelta(days=7)).nps
    assert start_nps == 0
    for entry in log:
        if entry.at.date() < RENEWAL and entry.transition.kind == "open":
            assert entry.nps is not None
            assert entry.nps >= start_nps, entry


def test_renewal_risk_opens_with_the_renewal_window_and_closes_with_the_outcome() -> None:
    log = run(divided_events()).log
    risk = first(log, "renewal_risk")
    assert days_before_renewal(risk) == 120
    assert risk.transition.severity == "critical"
    assert days_before_renewal(first(log, "renewal_risk", "resolve")) == 0


def test_the_silent_decision_maker_is_named_and_cleared_by_an_answer() -> None:
    log = run(divided_events()).log
    silent = first(log, "silent_stakeholder")
    assert silent.transition.key == "frank"
    assert first(log, "silent_stakeholder", "resolve").transition.key == "frank"


def test_every_alert_type_fires_in_the_divided_year_and_alignment_is_restored_at_the_end() -> None:
    log = run(divided_events()).log
    assert {e.transition.type for e in log if e.transition.kind == "open"} == set(ALERT_TYPES)
    restored = first(log, "alignment_restored")
    assert first(log, "stakeholder_divergence", "resolve").at == restored.at
    assert restored.divergence is not None
    assert restored.divergence < 0.3


def test_each_alert_opens_once_per_episode() -> None:
    log = run(divided_events()).log
    open_now: set[tuple[str, str | None]] = set()
    for entry in log:
        t = entry.transition
        identity = (t.type, t.key)
        if t.kind == "open":
            assert identity not in open_now, entry
            open_now.add(identity)
        elif t.kind == "resolve":
            open_now.remove(identity)
        else:
            assert identity in open_now
    assert Counter(e.transition.alert_id for e in log if e.transition.kind == "open").most_common(1)[0][1] == 1


def test_the_aligned_account_stays_silent() -> None:
    story = run(aligned_events())
    assert story.log == []
    final = story.ledger.snapshot(END)
    assert final.divergence is not None
    assert final.divergence.gap < 0.3


def test_replayed_events_change_nothing() -> None:
    events = divided_events()
    replayed = [copy for e in events for copy in ((e, e) if e.kind == "answer" else (e,))]
    once, twice = run(events), run(replayed)
    assert [(e.at, e.transition) for e in twice.log] == [(e.at, e.transition) for e in once.log]


def test_final_positions_do_not_depend_on_arrival_order() -> None:
    answers = [e for e in divided_events() if e.kind == "answer"]
    shuffled = answers[:]
    random.Random(7).shuffle(shuffled)
    in_order = run(answers).ledger.snapshot(END)
    late = _run_answers_only(shuffled).ledger.snapshot(END)
    for a, b in zip(in_order.roles, late.roles, strict=True):
        assert a.role == b.role
        assert a.position == pytest.approx(b.position, abs=1e-9)
        assert a.confidence == pytest.approx(b.confidence, abs=1e-9)
    assert in_order.nps == late.nps


def _run_answers_only(events: list[Event]) -> Story:
    """Fold answers in the given order without evaluating (a backlog delivered late and shuffled)."""
    story = run([])
    for e in events:
        story.ledger.answer(
            response_id=e.event_id,
            stakeholder_id=e.stakeholder_id,
            value=normalise_answer(e.metric, e.score),
            at=e.at,
            event_id=e.event_id,
            dimension=e.dimension,
            metric=e.metric,
            score=e.score,
        )
    return story
