"""Where the state stops: the next offset per partition, written in the batch's own transaction."""

from __future__ import annotations

from sqlalchemy import delete, select

from services.analyzer.db.models import ConsumerPosition
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.repository import positions
from shared.settings import Topics
from tests.analyzer.helpers import EVERYTHING_IS_NEWS, encode, sessions_for
from tests.factories import create_stakeholder, create_survey

TOPIC = "feedback.events.v1"


async def apply(url: str, records: list[tuple[bytes, RecordMeta]]) -> None:
    processor = EventProcessor(Topics(), EVERYTHING_IS_NEWS)
    async with sessions_for(url) as sessions, sessions() as session, session.begin():
        await processor.process_batch(session, records)


async def recorded(url: str) -> dict[int, int]:
    async with sessions_for(url) as sessions, sessions() as session:
        return await positions.recorded(session, TOPIC)


def meta(partition: int, offset: int) -> RecordMeta:
    return RecordMeta(TOPIC, partition, offset, b"acme")


async def test_a_batch_records_the_next_offset_of_each_of_its_partitions(database_url: str) -> None:
    first = encode(create_stakeholder(stakeholder_id="ann", role="it"))
    second = encode(create_survey(stakeholder_id="ann", score=7))
    await apply(database_url, [(first, meta(0, 4)), (second, meta(1, 9))])
    assert await recorded(database_url) == {0: 5, 1: 10}


async def test_a_position_never_moves_back_and_a_replay_keeps_it(database_url: str) -> None:
    body = encode(create_survey(stakeholder_id="ann", score=7))
    await apply(database_url, [(body, meta(0, 20))])
    await apply(database_url, [(body, meta(0, 3))])  # a replay of older records: a duplicate
    assert await recorded(database_url) == {0: 21}


async def test_a_dead_lettered_record_advances_the_position(database_url: str) -> None:
    await apply(database_url, [(b"not json", meta(2, 7))])
    assert await recorded(database_url) == {2: 8}


async def test_a_rolled_back_batch_leaves_no_position(database_url: str) -> None:
    processor = EventProcessor(Topics(), EVERYTHING_IS_NEWS)
    body = encode(create_survey(stakeholder_id="ann", score=7))
    async with sessions_for(database_url) as sessions:
        async with sessions() as session:
            await session.begin()
            await processor.process_batch(session, [(body, meta(0, 1))])
            await session.rollback()
        async with sessions() as session:
            assert list(await session.scalars(select(ConsumerPosition))) == []


async def test_a_database_with_events_but_no_positions_predates_them(database_url: str) -> None:
    async with sessions_for(database_url) as sessions, sessions() as session:
        assert not await positions.predates_positions(session)  # empty: read partitions from the start
    await apply(database_url, [(encode(create_survey(stakeholder_id="ann", score=7)), meta(0, 0))])
    async with sessions_for(database_url) as sessions:
        async with sessions() as session, session.begin():
            await session.execute(delete(ConsumerPosition))
        async with sessions() as session:
            assert await positions.predates_positions(session)
