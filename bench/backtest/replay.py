"""A simulated portfolio's events through the analyzer's model, offline, into backtest rows (pure).

The events are the ones ``make demo`` posts to ingest; here they go straight into the model's
``replay`` (the function the analyzer's rebuild runs), account by account, so that dozens of seeds can
be scored in minutes without Kafka or a database. What the live stack adds (validation, attribution,
storage, arrival order) changes none of the figures: the alerts are a function of the events in event
time (docs/model.md, "Event time"), and ``tests/e2e/test_demo.py`` checks the live path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from services.analyzer.backtest.scoring import NpsAnswer
from services.analyzer.model import Answer, HeldAnswer, Thresholds, normalise_answer
from services.analyzer.model.account_state import PersonFacts
from services.analyzer.model.normalise import Metric
from services.analyzer.model.replay import AnswerVersion, Fact, Moment, replay
from services.analyzer.model.risk import RiskModel
from services.analyzer.model.risk_fit import DEFAULT_HORIZONS, Example, renewal_examples


@dataclass(frozen=True, slots=True)
class AccountResult:
    """What the model made of one account: its alert spans, NPS answers, outcome and predictions."""

    account_id: str
    alerts: tuple[tuple[str, str, datetime, datetime | None], ...]  # (account, type, opened, closed)
    nps: tuple[tuple[str, NpsAnswer], ...]
    outcomes: tuple[tuple[str, datetime, object], ...]
    predictions: tuple[tuple[datetime, float], ...]  # (renewal time, risk at the horizon before it)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def group_events(events: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """The events per account, in the order given."""
    by_account: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for event in events:
        by_account[str(event["account_id"])].append(event)
    return by_account


@dataclass(frozen=True, slots=True)
class AccountInputs:
    """One account's events as the model reads them."""

    account_id: str
    facts: tuple[Fact, ...]
    people: Mapping[str, PersonFacts]
    renewal_date: date | None
    nps: tuple[tuple[str, NpsAnswer], ...]  # the current NPS answers of client people
    outcomes: tuple[tuple[str, datetime, object], ...]


def read_account(account_id: str, events: Sequence[Mapping[str, Any]]) -> AccountInputs:
    """The directory, answers and moments of one account's events (what the analyzer would store)."""
    people: dict[str, PersonFacts] = {}
    facts: list[Fact] = []
    renewal: date | None = None
    nps: dict[str, tuple[str, NpsAnswer]] = {}
    outcomes: list[tuple[str, datetime, object]] = []
    for event in events:
        at, event_id = _time(event["occurred_at"]), str(event["event_id"])
        kind = event["type"]
        if kind == "account":
            if event.get("renewal_date"):
                renewal = date.fromisoformat(event["renewal_date"])
        elif kind == "stakeholder":
            prior = people.get(event["stakeholder_id"])
            people[event["stakeholder_id"]] = PersonFacts(
                role=event.get("role") or "unassigned",
                side=event.get("side") or "client",
                influence=float(event.get("influence") or 1.0),
                known_since=prior.known_since if prior is not None else at,
                decision_maker=event.get("decision_maker"),
            )
        elif kind == "survey_response":
            metric: Metric = event["metric"]
            score = float(event["score"])
            key = str(event.get("response_id") or event_id)
            held = HeldAnswer.of(
                Answer(normalise_answer(metric, score), at, event_id),
                stakeholder_id=event["stakeholder_id"],
                dimension=event.get("dimension"),
            )
            facts.append(AnswerVersion(key, held, metric, score))
            if metric == "nps":
                prior_nps = nps.get(key)
                if prior_nps is None or (prior_nps[1].at, prior_nps[1].event_id) < (at, event_id):
                    nps[key] = (event["stakeholder_id"], NpsAnswer(event["stakeholder_id"], at, event_id, score))
        elif kind == "journey_moment":
            facts.append(Moment(at, event_id, event["moment"]))
            if event["moment"] == "renewal_outcome":
                outcomes.append((account_id, at, (event.get("attributes") or {}).get("outcome")))
    client_nps = tuple(
        (account_id, answer)
        for person, answer in nps.values()
        if people.get(person, PersonFacts(side="client")).side == "client"
    )
    return AccountInputs(account_id, tuple(facts), people, renewal, client_nps, tuple(outcomes))


def assess_account(
    account: AccountInputs,
    *,
    thresholds: Thresholds,
    half_life: timedelta,
    risk: RiskModel | None = None,
) -> AccountResult:
    """Replay one account through the model and collect what the backtest reads."""
    state, _ = replay(
        account.account_id,
        account.facts,
        account.people,
        thresholds=thresholds,
        half_life=half_life,
        renewal_date=account.renewal_date,
        risk=risk,
    )
    alerts = tuple(
        (account.account_id, episode.type, episode.opened_as_of, episode.resolved_as_of)
        for episode in state.timeline.episodes
    )
    return AccountResult(
        account.account_id, alerts, account.nps, account.outcomes, tuple(sorted(state.predictions.items()))
    )


def examples(
    account: AccountInputs,
    *,
    thresholds: Thresholds,
    half_life: timedelta,
    risk: RiskModel | None = None,
    horizons: Sequence[timedelta] = DEFAULT_HORIZONS,
) -> list[Example]:
    """The account's renewals as fitting examples, as ``feedback risk fit`` reads them."""
    return renewal_examples(
        account.account_id,
        account.facts,
        account.people,
        [(at, str(outcome)) for _, at, outcome in account.outcomes],
        thresholds=thresholds,
        half_life=half_life,
        renewal_date=account.renewal_date,
        risk=risk,
        horizons=horizons,
    )
