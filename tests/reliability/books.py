"""Reading the analyzer's books straight from its database, and reconciling them with what ingest acknowledged.

The ledger (``processed_events``) holds one row per event id the analyzer applied or dead-lettered, in
the transaction of the state change; the answers table holds one row per answer. Reconciling both
against the acknowledged events, by id, says what was lost and what was doubled.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from services.analyzer.db.models import AlertRow, ProcessedEvent, Response
from services.analyzer.db.webhook_models import Delivery


@dataclass(frozen=True, slots=True)
class Books:
    """What the analyzer's database holds."""

    ledger: dict[str, str]  # event id -> outcome
    answers: Counter[tuple[str, str]]  # (account, stakeholder) -> answer rows
    told: dict[str, str | None]  # alert id -> what subscribers were last told ("open:<severity>", "resolved")
    deliveries: dict[str, str]  # webhook-id -> status
    last_delivered: dict[str, str]  # alert id -> the state its latest committed delivery says
    waiting: int  # open alerts subscribers were never told of (history held back until caught up)


class LedgerProbe:
    """How many events the ledger holds: a cheap probe of progress, on one engine for many polls."""

    def __init__(self, url: str) -> None:
        self._engine = create_async_engine(url, pool_pre_ping=True)

    async def size(self) -> int:
        """Rows in ``processed_events`` now."""
        async with self._engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)

    async def close(self) -> None:
        """Close the engine's connections."""
        await self._engine.dispose()


async def read_books(url: str) -> Books:
    """Ledger, answers per person, alert changes and webhook deliveries, in one read."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            ledger = {r.event_id: r.outcome for r in await conn.execute(select(ProcessedEvent))}
            rows = await conn.execute(
                select(Response.account_id, Response.stakeholder_id, func.count()).group_by(
                    Response.account_id, Response.stakeholder_id
                )
            )
            answers = Counter({(a, s): int(n) for a, s, n in rows})
            alerts = list(await conn.execute(select(AlertRow.alert_id, AlertRow.notified, AlertRow.active)))
            told = {r.alert_id: r.notified for r in alerts}
            waiting = sum(1 for r in alerts if r.active and r.notified is None)
            query = select(Delivery.msg_id, Delivery.status, Delivery.body).order_by(Delivery.id)
            sent = list(await conn.execute(query))
    finally:
        await engine.dispose()
    deliveries = {r.msg_id: r.status for r in sent}
    last_delivered = {}
    for row in sent:
        body = json.loads(row.body)
        if body["type"] != "alert.acknowledged":
            state = "resolved" if body["type"] == "alert.resolved" else f"open:{body['data']['severity']}"
            last_delivered[body["data"]["alert_id"]] = state
    return Books(ledger, answers, told, deliveries, last_delivered, waiting)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Acknowledged events against the books."""

    acknowledged: int
    lost: list[str]  # acknowledged ids not applied, and answers missing per person
    doubled: list[str]  # answers beyond the acknowledged ones per person, and applied ids nobody acknowledged

    def summary(self) -> str:
        """The first few ids of each kind, for a failure message."""
        return f"lost {len(self.lost)}: {self.lost[:10]}; doubled {len(self.doubled)}: {self.doubled[:10]}"


def reconcile(
    acknowledged: Mapping[str, dict[str, Any]], books: Books, *, also_applied: Iterable[str] = ()
) -> Reconciliation:
    """Every acknowledged event applied exactly once, every acknowledged answer held exactly once.

    ``acknowledged`` maps event id to the event; ``also_applied`` names events that reached the topic
    some other way (written straight to Kafka) and are expected in the ledger too. Answers here carry
    no ``response_id``, so each acknowledged ``survey_response`` is one answer of its person.
    """
    lost = [f"event {i}" for i in acknowledged if books.ledger.get(i) != "applied"]
    expected_ids = set(acknowledged) | set(also_applied)
    doubled = [f"unacknowledged event {i}" for i, o in books.ledger.items() if o == "applied" and i not in expected_ids]
    expected = Counter(
        (e["account_id"], e["stakeholder_id"]) for e in acknowledged.values() if e["type"] == "survey_response"
    )
    for person in expected.keys() | books.answers.keys():
        held, wanted = books.answers.get(person, 0), expected.get(person, 0)
        if held < wanted:
            lost.append(f"{wanted - held} answer(s) of {person}")
        elif held > wanted:
            doubled.append(f"{held - wanted} answer(s) of {person}")
    return Reconciliation(len(acknowledged), lost, doubled)
