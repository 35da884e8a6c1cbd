"""The ledger keeps event ids for a window; a duplicate arriving after its id was pruned still changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from services.analyzer.db.models import AccountModel, ProcessedEvent, Response
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.retention import prune
from shared.settings import Topics
from tests.analyzer.helpers import EVERYTHING_IS_NEWS, encode, sessions_for
from tests.factories import create_account, create_moment, create_stakeholder, create_survey

WINDOW = timedelta(days=7)


def story() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        create_account(renewal_date="2026-12-01"),
        create_stakeholder(stakeholder_id="pat", role="procurement"),
        create_stakeholder(stakeholder_id="ivy", role="it"),
        create_moment(occurred_at="2026-05-02T09:00:00Z", event_id="onboarding"),
        create_survey(stakeholder_id="waiting", identities={"stakeholder": ["nobody@x.example"]}, event_id="held"),
    ]
    for day in range(3, 15, 2):
        at = f"2026-05-{day:02d}T10:00:00Z"
        events.append(create_survey(stakeholder_id="pat", score=9, occurred_at=at, event_id=f"pat-{day}"))
        events.append(create_survey(stakeholder_id="ivy", score=2, occurred_at=at, event_id=f"ivy-{day}"))
    return events


def records(bodies: list[dict[str, Any]], *, published_ms: int | None) -> list[tuple[bytes, RecordMeta]]:
    return [
        (encode(body), RecordMeta("feedback.events.v1", 0, offset, b"acme", None, published_ms))
        for offset, body in enumerate(bodies)
    ]


async def state(url: str) -> tuple[int, dict[str, Any], float | None]:
    async with sessions_for(url) as sessions, sessions() as session:
        answers = int(await session.scalar(select(func.count()).select_from(Response)) or 0)
        model = await session.get(AccountModel, "acme")
        assert model is not None
        return answers, model.document, model.divergence


async def test_a_duplicate_older_than_the_window_is_recognised_by_what_it_left(database_url: str) -> None:
    processor = EventProcessor(Topics(), EVERYTHING_IS_NEWS, dedup_window=WINDOW)
    long_ago = int((datetime.now(UTC) - 30 * timedelta(days=1)).timestamp() * 1000)
    async with sessions_for(database_url) as sessions:
        async with sessions() as session, session.begin():
            first = await processor.process_batch(session, records(story(), published_ms=long_ago))
        assert set(first) == {"applied"}
        before = await state(database_url)
        async with sessions() as session, session.begin():
            # What pruning does to ledger rows older than the window.
            await session.execute(update(ProcessedEvent).values(processed_at=datetime.now(UTC) - 2 * WINDOW))
        async with sessions() as session, session.begin():
            assert await prune(sessions, outbox_retention=WINDOW, delivery_retention=WINDOW, dedup_window=WINDOW)
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0

        # The same records again (a client re-posting, a replay from before the recorded positions).
        async with sessions() as session, session.begin():
            again = await processor.process_batch(session, records(story(), published_ms=long_ago))
        facts = [
            o for o, body in zip(again, story(), strict=True) if body["type"] in ("survey_response", "journey_moment")
        ]
        assert set(facts) == {"duplicate"}, again
        # Directory events are upserts: applied again, they change nothing.
        assert await state(database_url) == before


async def test_recent_records_trust_the_ledger_and_the_window_prunes_only_old_ids(database_url: str) -> None:
    processor = EventProcessor(Topics(), EVERYTHING_IS_NEWS, dedup_window=WINDOW)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    async with sessions_for(database_url) as sessions:
        async with sessions() as session, session.begin():
            await processor.process_batch(session, records(story(), published_ms=now_ms))
        async with sessions() as session, session.begin():
            # Half the ledger is old.
            old = select(ProcessedEvent.event_id).where(ProcessedEvent.event_id.like("pat-%")).scalar_subquery()
            await session.execute(
                update(ProcessedEvent)
                .where(ProcessedEvent.event_id.in_(old))
                .values(processed_at=datetime.now(UTC) - 2 * WINDOW)
            )
        pruned = await prune(sessions, outbox_retention=WINDOW, delivery_retention=WINDOW, dedup_window=WINDOW)
        assert pruned.processed == 6
        async with sessions() as session:
            left = set(await session.scalars(select(ProcessedEvent.event_id)))
        assert left
        assert not any(i.startswith("pat-") for i in left)
        # Recent records are decided by the ledger alone (no lookup of facts): the ids it still holds
        # are duplicates.
        async with sessions() as session, session.begin():
            again = await processor.process_batch(session, records(story()[-2:], published_ms=now_ms)[1:])
        assert again == ["duplicate"]
        async with sessions() as session, session.begin():
            await session.execute(delete(ProcessedEvent))
