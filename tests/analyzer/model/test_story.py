"""The year of a divided account against an aligned one: which alerts fire, when, and what NPS said."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from services.analyzer.model import DEFAULT_THRESHOLDS, normalise_answer
from tests.analyzer.model.story import (
    END,
    PEOPLE,
    RENEWAL,
    START,
    Entry,
    Event,
    Story,
    aligned_events,
    divided_events,
    run,
)

TH = DEFAULT_THRESHOLDS


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
    # The pair whose gap best survives the noise: the end users, three people heard monthly, against
    # IT; procurement stands a little higher but is one person heard quarterly.
    assert split.transition.condition.metrics["high_role"] == "end_user"
    assert split.transition.condition.metrics["low_role"] == "it"
    assert split.lower is not None
    assert split.divergence is not None
    assert TH.divergence_warning <= split.lower < split.divergence
    for type_ in ("masked_by_average", "position_drop", "perception_gap"):
        assert days_before_renewal(first(log, type_)) >= 150, type_
    # The split deepens to critical weeks before the renewal.
    critical = next(
        e for e in log if e.transition.type == "stakeholder_divergence" and e.transition.severity == "critical"
    )
    assert days_before_renewal(critical) >= 30
    # NPS at the moment each early alert fired: no lower than where the year began.
    start_nps = run(divided_events(), until=START + timedelta(days=7)).ledger.snapshot(START + timedelta(days=7)).nps
    assert start_nps == 0
    for entry in log:
        if entry.at.date() < RENEWAL and entry.transition.kind == "open":
            assert entry.nps is not None
            assert entry.nps >= start_nps, entry


def test_renewal_risk_stays_quiet_while_those_who_decide_are_content() -> None:
    # Procurement, finance and the sponsor decide this renewal and rate the supplier well; IT, who
    # sours, does not sign. The risk reads above the aligned account's, yet below its warning level.
    divided, aligned = run(divided_events()), run(aligned_events())
    assert "renewal_risk" not in {e.transition.type for e in divided.log}
    (divided_risk,) = divided.ledger.state.predictions.values()
    (aligned_risk,) = aligned.ledger.state.predictions.values()
    assert aligned_risk < divided_risk < TH.risk_warning


def test_renewal_risk_opens_months_ahead_where_it_decides_too() -> None:
    # The same year in an account whose directory says the two IT leads decide the renewal as well.
    deciding_it = dict(PEOPLE) | {name: replace(PEOPLE[name], decision_maker=True) for name in ("ivan", "iris")}
    story = run(divided_events(), people=deciding_it)
    risk = first(story.log, "renewal_risk")
    assert days_before_renewal(risk) >= 150
    assert risk.risk is not None
    assert risk.risk >= TH.risk_warning
    assert risk.transition.condition is not None
    assert risk.transition.condition.metrics["lowest_decision_role"] == "it"
    reasons = risk.transition.condition.metrics["risk_reasons"]
    assert isinstance(reasons, list)
    assert reasons[0] == "lowest_decision_maker"
    # IT's fixes after the renewal bring it back down.
    resolved = first(story.log, "renewal_risk", "resolve")
    assert resolved.at.date() > RENEWAL
    assert resolved.risk is not None
    assert resolved.risk < TH.risk_clear
    (predicted,) = story.ledger.state.predictions.values()
    (default_directory,) = run(divided_events()).ledger.state.predictions.values()
    assert predicted > default_directory


def test_the_silent_decision_maker_is_named_and_cleared_by_an_answer() -> None:
    log = run(divided_events()).log
    silent = first(log, "silent_stakeholder")
    assert silent.transition.key == "frank"
    assert first(log, "silent_stakeholder", "resolve").transition.key == "frank"


def test_the_alerts_the_divided_year_opens() -> None:
    log = run(divided_events()).log
    assert {e.transition.type for e in log if e.transition.kind == "open"} == {
        "perception_gap",
        "stakeholder_divergence",
        "masked_by_average",
        "position_drop",
        "silent_stakeholder",
        "alignment_restored",
    }
    # divergence_widening: the split grew by 0.51 within 90 days (0.13 to 0.64) by 2026-07-31, but
    # with a standard error of 0.22 only 0.51 - √2·0.22 = 0.197 of it is beyond the noise, short of 0.2.
    # renewal_risk: see test_renewal_risk_stays_quiet_while_those_who_decide_are_content.


def test_the_divergence_alerts_resolve_once_the_roles_converge_after_the_renewal() -> None:
    log = run(divided_events()).log
    resolved = first(log, "stakeholder_divergence", "resolve")
    assert resolved.at.date() > RENEWAL
    assert first(log, "masked_by_average", "resolve").at == resolved.at
    assert resolved.lower is not None
    assert resolved.lower < TH.divergence_clear


def test_alignment_is_restored_when_the_divergence_resolves() -> None:
    log = run(divided_events()).log
    restored = first(log, "alignment_restored")
    assert first(log, "stakeholder_divergence", "resolve").at == restored.at
    assert restored.lower is not None
    assert restored.lower < TH.divergence_clear


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
    assert final.divergence.gap < TH.divergence_clear


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
