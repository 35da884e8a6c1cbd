"""No record can stop the consumer: a failure at any step of applying one event dead-letters that event.

Each case injects a fault into one step of applying the event ``poison`` (and no other), runs the
real consumer on a real broker and database, and checks that the events around it are applied in
order, that ``poison`` lands on the dead-letter topic with the error, and that the consumer goes on
consuming what is published afterwards.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from services.analyzer.db.models import ProcessedEvent, Response
from services.analyzer.processing import EventProcessor
from tests.analyzer.helpers import encode, sessions_for
from tests.analyzer.test_consumer import publish, running_consumer
from tests.factories import create_analyzer_settings, create_survey
from tests.harness.kafka import create_topics, read_all, unique_topics
from tests.harness.waiting import wait_until


class InjectedFault(RuntimeError):
    """The failure a test plants in one step."""


POISON_TIME = datetime(2026, 5, 1, 10, 0, 0, 424242, tzinfo=UTC)


class Injector:
    """Knows when the processor works on the event ``poison``, so a planted fault hits only it.

    Armed while a batch is applied (not while the consumer dead-letters a record alone) and the
    step concerns ``poison``: it is being decoded or applied, or the step was handed its id or time.
    """

    def __init__(self) -> None:
        self.current: str | None = None
        self.in_batch = False

    def armed(self, args: tuple[Any, ...]) -> bool:
        # An account evaluated at the point whose newest event is ``poison`` counts as applying it.
        at_poison = bool(args) and getattr(args[0], "clock_event", None) == "poison"
        return self.in_batch and (self.current == "poison" or "poison" in args or POISON_TIME in args or at_poison)


def _resolve(path: str) -> tuple[Any, str]:
    owner_path, attr = path.rsplit(".", 1)
    try:
        return importlib.import_module(owner_path), attr
    except ModuleNotFoundError:
        module_path, cls = owner_path.rsplit(".", 1)
        return getattr(importlib.import_module(module_path), cls), attr


def plant(monkeypatch: pytest.MonkeyPatch, path: str, injector: Injector, fault: Callable[[], BaseException]) -> None:
    """Make the function at ``path`` raise ``fault()`` while ``poison`` is being applied."""
    owner, attr = _resolve(path)
    original = getattr(owner, attr)
    if inspect.iscoroutinefunction(original):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            if injector.armed(args):
                raise fault()
            return await original(*args, **kwargs)

        monkeypatch.setattr(owner, attr, async_wrapper)
    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if injector.armed(args):
                raise fault()
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, attr, wrapper)


def track(monkeypatch: pytest.MonkeyPatch, injector: Injector) -> None:
    """Record when a batch is applied and which event is being decoded or applied."""
    process_batch, apply, decode = EventProcessor.process_batch, EventProcessor.apply, EventProcessor.decode

    async def tracked_batch(self: EventProcessor, session: Any, records: Any) -> list[str]:
        injector.in_batch = True
        try:
            return await process_batch(self, session, records)
        finally:
            injector.in_batch = False

    async def tracked_apply(self: EventProcessor, session: Any, event: Any) -> None:
        injector.current = event.event_id
        try:
            await apply(self, session, event)
        finally:
            injector.current = None

    def tracked_decode(self: EventProcessor, raw: bytes) -> Any:
        injector.current = json.loads(raw).get("event_id")
        try:
            return decode(self, raw)
        finally:
            injector.current = None

    monkeypatch.setattr(EventProcessor, "process_batch", tracked_batch)
    monkeypatch.setattr(EventProcessor, "apply", tracked_apply)
    monkeypatch.setattr(EventProcessor, "decode", tracked_decode)


def injected() -> BaseException:
    return InjectedFault("injected fault")


def overflow() -> BaseException:
    # What a time the UTC column cannot convert raised before the time policy existed.
    return OverflowError("date value out of range")


def data_error() -> BaseException:
    return DataError("INSERT INTO responses ...", {}, Exception("value too long for type character varying(16)"))


STEPS: dict[str, tuple[str, Callable[[], BaseException]]] = {
    "decode": ("services.analyzer.processing.decode_event", injected),
    "ledger check": ("services.analyzer.repository.ledger.already_processed", injected),
    "attribution": ("services.analyzer.processing.attribute", injected),
    "directory": ("services.analyzer.repository.directory.ensure_account", injected),
    "answer versions": ("services.analyzer.repository.responses.current_version", injected),
    "fold into states": ("services.analyzer.assessment.Assessor.fold", injected),
    "rules and alerts": ("services.analyzer.model.account_state.AccountState.evaluate_point", injected),
    "outbox": ("services.analyzer.outbox.repository.enqueue", injected),
    "ledger write": ("services.analyzer.repository.ledger.mark_processed", injected),
    "column conversion": ("services.analyzer.db.types.UTCDateTime.process_bind_param", overflow),
    "database refuses a value": ("services.analyzer.assessment.Assessor.fold", data_error),
}


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_fault_at_any_step_dead_letters_that_event_and_consuming_goes_on(
    kafka_bootstrap: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    injector = Injector()
    track(monkeypatch, injector)
    path, fault = STEPS[step]
    plant(monkeypatch, path, injector, fault)
    topics = unique_topics()
    await create_topics(kafka_bootstrap, topics)
    settings = create_analyzer_settings(kafka_bootstrap, topics, database_url)
    ids = ["before-1", "before-2", "poison", "after-1", "after-2"]
    values = [
        encode(create_survey(event_id=i, stakeholder_id=f"p-{i}", occurred_at=POISON_TIME.isoformat()))
        if i == "poison"
        else encode(create_survey(event_id=i, stakeholder_id=f"p-{i}"))
        for i in ids
    ]
    await publish(kafka_bootstrap, topics, values)

    async with sessions_for(database_url) as sessions, running_consumer(settings, sessions) as consumer:

        async def applied(n: int) -> bool:
            return consumer.stats.applied == n

        await wait_until(lambda: applied(4), timeout_s=60, what="the four good events")
        # Still consuming: an event published after the poison is applied too.
        await publish(kafka_bootstrap, topics, [encode(create_survey(event_id="later", stakeholder_id="p-later"))])
        await wait_until(lambda: applied(5), timeout_s=60, what="the later event")

        async with sessions() as session:
            outcomes = dict((await session.execute(select(ProcessedEvent.event_id, ProcessedEvent.outcome))).all())
            held = set(await session.scalars(select(Response.event_id)))
    assert held == {"before-1", "before-2", "after-1", "after-2", "later"}
    dead = [o for o in outcomes.values() if o == "dead_lettered"]
    assert len(dead) == 1, outcomes
    [letter] = await read_all(kafka_bootstrap, topics.dlq, expect=1)
    reason = letter["value"]["reason"]
    assert type(fault()).__name__ in reason, reason
    assert json.loads(letter["value"]["payload"]["text"])["event_id"] == "poison"
