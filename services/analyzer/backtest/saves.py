"""Saves: renewals a rule flagged that did not go badly because the supplier acted (pure; docs/model.md, "Saves").

A renewal is a **save** for a rule when it was renewed, the rule flagged it inside its lookback window,
an action plan on the account reached ``done`` inside that window (in event time: the account's clock when
it was done), and the rule's flag then cleared: every span of the rule that overlaps the window ended
after the plan was done and before the renewal. A flagged renewed account without such a plan stays a
false alarm, so for accounts without plans every figure reads as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from services.analyzer.backtest.scoring import Renewal, RuleScore, Span, previous_renewals, window_start


def saved(renewal: Renewal, spans: Sequence[Span], done: Sequence[datetime], start: datetime) -> bool:
    """Whether a flagged, renewed renewal was saved: a plan done in ``[start, renewal)`` preceded recovery."""
    if renewal.bad:
        return False
    inside = [s for s in spans if s.start < renewal.at and (s.end is None or s.end > start)]
    if not inside or any(s.end is None or s.end >= renewal.at for s in inside):
        return False  # not flagged, or still flagged at the renewal: no recovery
    recovered_at = max(s.end for s in inside if s.end is not None)
    return any(start <= at < recovered_at for at in done)


def saves(
    score: RuleScore, spans: Mapping[str, Sequence[Span]], done: Mapping[str, Sequence[datetime]], lookback: timedelta
) -> frozenset[Renewal]:
    """The renewals among ``score``'s flagged ones that are saves, given each account's plans done (event time)."""
    previous = previous_renewals([v.renewal for v in score.verdicts])
    return frozenset(
        v.renewal
        for v in score.verdicts
        if v.flagged
        and v.renewal.account_id in done
        and saved(
            v.renewal,
            spans.get(v.renewal.account_id, ()),
            done[v.renewal.account_id],
            window_start(v.renewal, lookback, previous[v.renewal]),
        )
    )
