"""The one encoding of the model's ``AccountState`` as the JSON document of ``account_models``.

The document's layout (kept from the first release, so existing rows read as they are):

```
{"states":    {"<person>\\x1f<dimension or ''>": [s, w, n, ref ISO 8601 or null, q]},
 "classic":   {"<person>\\x1f<metric>": [score, normalised, at ISO 8601, event_id]},
 "history":   {"<person>": [[at ISO 8601, position], ...]},
 "evidence":  {"<person>": [[at ISO 8601, event_id], ...]},
 "divergence_series": [[at ISO 8601, gap], ...],
 "mean_series":       [[at ISO 8601, mean], ...],
 "decider_series":    [[at ISO 8601, mean of the decision makers' roles], ...],
 "role_series":       {"<role>": [[at ISO 8601, position], ...]},
 "risk_series":       [[at ISO 8601, probability], ...],
 "predictions":       [[renewal ISO 8601, probability at the horizon before it], ...],
 "renewal_moment_at": ISO 8601 (optional), "renewal_outcome_at": ISO 8601 (optional),
 "clock": [ISO 8601, event_id] (optional: the account's event clock),
 "timeline": {"numbers": [[type, key or null, n], ...],
              "episodes": [[alert_id, type, key or null, n, [[as_of, kind, severity, condition or null], ...]], ...]}}
```

A document without ``clock`` was written before evaluation points existed, and one whose states have
no ``q`` before the model measured answer noise: the analyzer rebuilds that account's timeline from
its stored events the first time it touches it (``AccountState.outdated``).

Times keep their offsets and floats their exact value, so ``decode(encode(state)) == state``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from services.analyzer.model import ClassicAnswer, DecayedState
from services.analyzer.model.account_state import AccountState, ClassicVersion
from services.analyzer.model.timeline import AlertTimeline, Change, Episode

SEP: Final = "\x1f"  # joins the parts of a key; never part of an id (ids are printable text)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def decode(document: dict[str, Any] | None) -> AccountState:
    """The typed state of a stored document (an empty state for None or an empty document)."""
    raw = document or {}
    state = AccountState()
    for key, (s, w, n, ref, *rest) in raw.get("states", {}).items():
        person, _, dimension = key.partition(SEP)
        if not rest:
            state.outdated = True  # written before ``q``: its spread is unknown until a rebuild
        q = float(rest[0]) if rest else (s * s / w if w > 0 else 0.0)
        state.states[(person, dimension or None)] = DecayedState(s=s, w=w, n=n, ref=_time(ref), q=q)
    for key, (score, value, at, event_id) in raw.get("classic", {}).items():
        person, _, metric = key.partition(SEP)
        answer = ClassicAnswer(person, metric, score, value)
        state.classic[(person, metric)] = ClassicVersion(answer, datetime.fromisoformat(at), event_id)
    state.history = {
        p: [(datetime.fromisoformat(t), v) for t, v in points] for p, points in raw.get("history", {}).items()
    }
    state.evidence = {
        p: [(datetime.fromisoformat(t), e) for t, e in items] for p, items in raw.get("evidence", {}).items()
    }
    state.divergence_series = [(datetime.fromisoformat(t), float(v)) for t, v in raw.get("divergence_series", [])]
    state.mean_series = [(datetime.fromisoformat(t), float(v)) for t, v in raw.get("mean_series", [])]
    state.role_series = {
        r: [(datetime.fromisoformat(t), float(v)) for t, v in points]
        for r, points in raw.get("role_series", {}).items()
    }
    state.decider_series = [(datetime.fromisoformat(t), float(v)) for t, v in raw.get("decider_series", [])]
    state.risk_series = [(datetime.fromisoformat(t), float(v)) for t, v in raw.get("risk_series", [])]
    state.predictions = {datetime.fromisoformat(t): float(v) for t, v in raw.get("predictions", [])}
    state.renewal_moment_at = _time(raw.get("renewal_moment_at"))
    state.renewal_outcome_at = _time(raw.get("renewal_outcome_at"))
    if "clock" in raw:
        at, event_id = raw["clock"]
        state.clock, state.clock_event = datetime.fromisoformat(at), event_id
    timeline = raw.get("timeline", {})
    state.timeline = AlertTimeline(
        episodes=[
            Episode(
                alert_id,
                type_,
                key,
                number,
                [
                    Change(datetime.fromisoformat(at), kind, severity, condition)
                    for at, kind, severity, condition in changes
                ],
            )
            for alert_id, type_, key, number, changes in timeline.get("episodes", [])
        ],
        numbers={(type_, key): n for type_, key, n in timeline.get("numbers", [])},
    )
    return state


def _timeline(timeline: AlertTimeline) -> dict[str, Any]:
    return {
        "numbers": [[type_, key, n] for (type_, key), n in timeline.numbers.items()],
        "episodes": [
            [
                e.alert_id,
                e.type,
                e.key,
                e.number,
                [[c.as_of.isoformat(), c.kind, c.severity, c.condition] for c in e.changes],
            ]
            for e in timeline.episodes
        ],
    }


def encode(state: AccountState) -> dict[str, Any]:
    """The stored document of a typed state."""
    document: dict[str, Any] = {
        "states": {
            f"{person}{SEP}{dimension or ''}": [s.s, s.w, s.n, _iso(s.ref), s.q]
            for (person, dimension), s in state.states.items()
        },
        "classic": {
            f"{person}{SEP}{metric}": [v.answer.score, v.answer.normalised, v.at.isoformat(), v.event_id]
            for (person, metric), v in state.classic.items()
        },
        "history": {p: [[t.isoformat(), v] for t, v in points] for p, points in state.history.items()},
        "evidence": {p: [[t.isoformat(), e] for t, e in items] for p, items in state.evidence.items()},
        "divergence_series": [[t.isoformat(), v] for t, v in state.divergence_series],
        "mean_series": [[t.isoformat(), v] for t, v in state.mean_series],
        "decider_series": [[t.isoformat(), v] for t, v in state.decider_series],
        "role_series": {r: [[t.isoformat(), v] for t, v in points] for r, points in state.role_series.items()},
        "risk_series": [[t.isoformat(), v] for t, v in state.risk_series],
        "predictions": [[t.isoformat(), v] for t, v in sorted(state.predictions.items())],
    }
    if state.renewal_moment_at is not None:
        document["renewal_moment_at"] = state.renewal_moment_at.isoformat()
    if state.renewal_outcome_at is not None:
        document["renewal_outcome_at"] = state.renewal_outcome_at.isoformat()
    if state.clock is not None:
        document["clock"] = [state.clock.isoformat(), state.clock_event]
    if state.timeline.episodes or state.timeline.numbers:
        document["timeline"] = _timeline(state.timeline)
    return document
