"""The backtest's arithmetic on hand-made renewals, spans and answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.analyzer.backtest.rules import (
    ANY_DIVERGENCE,
    NPS_BELOW_0,
    NPS_BELOW_MINUS_20,
    RULES,
    known_renewals,
    run_backtest,
)
from services.analyzer.backtest.scoring import (
    NpsAnswer,
    Renewal,
    Span,
    below_spans,
    lead_days,
    nps_series,
    score_rule,
    window_start,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LOOKBACK = timedelta(days=180)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def test_a_span_inside_the_window_counts_from_its_start() -> None:
    assert lead_days([Span(day(300), day(320))], day(200), day(380)) == 80


def test_a_span_opened_before_the_window_counts_from_the_window_start() -> None:
    assert lead_days([Span(day(0), None)], day(200), day(380)) == 180


def test_spans_outside_the_window_do_not_count() -> None:
    closed_before = Span(day(0), day(200))  # cleared exactly as the window opens
    opened_at_renewal = Span(day(380), None)
    assert lead_days([closed_before, opened_at_renewal], day(200), day(380)) is None


def test_the_earliest_flag_decides_the_lead_time() -> None:
    assert lead_days([Span(day(350), None), Span(day(250), day(260))], day(200), day(380)) == 130


def test_lead_time_keeps_fractions_of_a_day() -> None:
    assert lead_days([Span(day(379.5), None)], day(200), day(380)) == pytest.approx(0.5)


def test_the_window_stops_at_the_previous_renewal() -> None:
    renewal = Renewal("a", day(400), "churned")
    assert window_start(renewal, LOOKBACK, None) == day(220)
    assert window_start(renewal, LOOKBACK, day(300)) == day(300)
    assert window_start(renewal, LOOKBACK, day(100)) == day(220)


def test_confusion_counts_precision_recall_and_median_lead() -> None:
    renewals = [
        Renewal("churn-early", day(400), "churned"),
        Renewal("down-late", day(400), "downsized"),
        Renewal("churn-missed", day(400), "churned"),
        Renewal("renewed-flagged", day(400), "renewed"),
        Renewal("renewed-quiet", day(400), "renewed"),
    ]
    spans = {
        "churn-early": [Span(day(280), None)],  # 120 days ahead
        "down-late": [Span(day(370), day(390))],  # 30 days ahead
        "churn-missed": [Span(day(100), day(150))],  # long before the window
        "renewed-flagged": [Span(day(300), day(310))],
    }
    score = score_rule("r", renewals, spans, LOOKBACK)
    assert (score.flagged, score.caught, score.false_alarms, score.missed) == (3, 2, 1, 1)
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)
    assert score.median_lead_days == pytest.approx(75)  # median of 120 and 30
    verdicts = {v.renewal.account_id: v.lead_days for v in score.verdicts}
    assert verdicts == {
        "churn-early": 120,
        "down-late": 30,
        "churn-missed": None,
        "renewed-flagged": 100,
        "renewed-quiet": None,
    }


def test_a_rule_that_never_flags_has_no_precision_and_no_lead() -> None:
    score = score_rule("r", [Renewal("a", day(10), "churned")], {}, LOOKBACK)
    assert (score.flagged, score.caught, score.missed, score.precision, score.recall) == (0, 0, 1, None, 0.0)
    assert score.median_lead_days is None


def test_without_bad_outcomes_recall_is_undefined() -> None:
    score = score_rule("r", [Renewal("a", day(10), "renewed")], {"a": [Span(day(5))]}, LOOKBACK)
    assert (score.false_alarms, score.precision, score.recall) == (1, 0.0, None)


def test_a_flag_for_the_first_renewal_does_not_count_for_the_second() -> None:
    renewals = [Renewal("a", day(100), "renewed"), Renewal("a", day(200), "churned")]
    score = score_rule("r", renewals, {"a": [Span(day(50), day(90))]}, LOOKBACK)
    assert [v.lead_days for v in score.verdicts] == [50, None]


def test_account_nps_takes_the_latest_answer_per_person_at_each_answer_time() -> None:
    answers = [
        NpsAnswer("ann", day(0), "e1", 9),  # +100
        NpsAnswer("bob", day(10), "e2", 3),  # 1 promoter, 1 detractor: 0
        NpsAnswer("bob", day(20), "e3", 8),  # promoter, passive: +50
        NpsAnswer("ann", day(30), "e4", 2),  # detractor, passive: -50
        NpsAnswer("cat", day(30), "e5", 10),  # same instant: detractor, passive, promoter: 0
    ]
    assert nps_series(reversed(answers)) == [(day(0), 100), (day(10), 0), (day(20), 50), (day(30), 0)]


def test_below_spans_open_and_close_on_the_line() -> None:
    series = [(day(0), 10.0), (day(5), -10.0), (day(9), 0.0), (day(12), -50.0)]
    assert below_spans(series, 0) == [Span(day(5), day(9)), Span(day(12), None)]
    assert below_spans(series, -20) == [Span(day(12), None)]


def test_unknown_outcomes_are_counted_and_left_out() -> None:
    renewals, unknown = known_renewals(
        [("a", day(1), "churned"), ("b", day(2), "lost"), ("c", day(3), None), ("d", day(4), 7)]
    )
    assert renewals == [Renewal("a", day(1), "churned")]
    assert unknown == 3


def test_the_whole_backtest_from_rows() -> None:
    outcomes = [("split", day(400), "downsized"), ("unhappy", day(400), "churned"), ("fine", day(400), "renewed")]
    alerts = [
        ("split", "stakeholder_divergence", day(250), None),
        ("split", "masked_by_average", day(260), day(300)),
        ("split", "renewal_risk", day(100), None),  # not a divergence rule
        ("fine", "divergence_widening", day(390), day(395)),
    ]
    answers = [
        ("split", NpsAnswer("p", day(200), "s1", 9)),
        ("unhappy", NpsAnswer("p", day(200), "u1", 6)),
        ("unhappy", NpsAnswer("q", day(300), "u2", 5)),  # two detractors: -100
        ("unhappy", NpsAnswer("r", day(350), "u3", 9)),  # -33
        ("fine", NpsAnswer("p", day(200), "f1", 7)),
    ]
    result = run_backtest(outcomes, alerts, answers, LOOKBACK)
    scores = {rule.name: score for rule, score in result.scores}
    assert [rule.name for rule, _ in result.scores] == [rule.name for rule in RULES]
    assert result.outcome_counts() == {"renewed": 1, "downsized": 1, "churned": 1}
    assert scores["stakeholder_divergence"].caught == 1
    assert scores["stakeholder_divergence"].median_lead_days == 150
    assert scores["masked_by_average"].median_lead_days == 140
    assert scores["divergence_widening"].false_alarms == 1
    union = scores[ANY_DIVERGENCE]
    assert (union.caught, union.false_alarms, union.missed) == (1, 1, 1)
    assert union.median_lead_days == 150
    below_0 = scores[NPS_BELOW_0]
    assert (below_0.caught, below_0.false_alarms, below_0.median_lead_days) == (1, 0, 180)  # from the window start
    assert scores[NPS_BELOW_MINUS_20].median_lead_days == 180
