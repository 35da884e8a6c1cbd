"""Applying events to the state, on SQLite and PostgreSQL: idempotency, versions, directory upserts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from services.analyzer.db.models import Account, OutboxMessage, ProcessedEvent, Response, Stakeholder, StakeholderAlias
from services.analyzer.repository import responses
from tests.analyzer.helpers import apply_all, dumps, sessions_for
from tests.factories import create_account, create_moment, create_stakeholder, create_survey


async def test_answer_creates_account_and_unassigned_stakeholder(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        assert await apply_all(sessions, [create_survey(event_id="e1")]) == ["applied"]
        async with sessions() as session:
            person = await session.get(Stakeholder, ("acme", "jane@acme.example"))
            assert person is not None
            assert (person.role, person.side, person.influence) == ("unassigned", "client", 1.0)
            assert await session.get(Account, "acme") is not None


async def test_same_event_twice_counts_once(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        body = create_survey(event_id="e1")
        assert await apply_all(sessions, [body, body]) == ["applied", "duplicate"]
        assert await apply_all(sessions, [body]) == ["duplicate"]
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Response)) == 1
            stats = await responses.stats_by_stakeholder(session, "acme")
            assert stats["jane@acme.example"].responses == 1


async def test_versions_of_one_answer_count_once_and_latest_wins_in_any_order(database_url: str) -> None:
    early = create_survey(event_id="v1", response_id="r-1", score=3, occurred_at="2026-05-01T10:00:00Z")
    late = create_survey(event_id="v2", response_id="r-1", score=9, occurred_at="2026-05-02T10:00:00Z")
    other = create_survey(event_id="v3", score=7, occurred_at="2026-05-03T10:00:00Z")
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [late, other, early])  # the older version arrives last
        async with sessions() as session:
            current = await responses.current_version(session, "r-1", "acme")
            assert current is not None
            assert (current.event_id, current.score) == ("v2", 9)
            stats = await responses.stats_by_stakeholder(session, "acme")
            assert stats["jane@acme.example"].responses == 2
            assert stats["jane@acme.example"].last_response_at is not None
            assert stats["jane@acme.example"].last_response_at.isoformat() == "2026-05-03T10:00:00+00:00"


async def test_directory_upsert_later_occurred_at_wins_per_field(database_url: str) -> None:
    newer = create_stakeholder(event_id="s2", occurred_at="2026-06-01T00:00:00Z", role="it")
    older = create_stakeholder(event_id="s1", occurred_at="2026-05-01T00:00:00Z", role="finance", name="Jane Doe")
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [newer, older])
        async with sessions() as session:
            person = await session.get(Stakeholder, ("acme", "jane@acme.example"))
            assert person is not None
            assert person.role == "it", "the older event must not overwrite a newer role"
            assert person.name == "Jane Doe", "but it still sets fields nobody set later"


async def test_account_fields_and_aliases(database_url: str) -> None:
    account = create_account(
        name="Acme Corp",
        segment="enterprise",
        renewal_date="2027-02-01",
        aliases=["zendesk:org:9"],
    )
    person = create_stakeholder(role="procurement", aliases=["zendesk:user:4412"])
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [account, person, create_moment(moment="renewal_approach")])
        async with sessions() as session:
            row = await session.get(Account, "acme")
            assert row is not None
            assert (row.name, row.segment, str(row.renewal_date)) == ("Acme Corp", "enterprise", "2027-02-01")
            alias = await session.get(StakeholderAlias, "zendesk:user:4412")
            assert alias is not None
            assert alias.stakeholder_id == "jane@acme.example"


async def test_poison_records_go_to_the_outbox_dlq_once_and_do_not_block_the_batch(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        batch: list[dict[str, Any] | bytes] = [
            b"{not json",
            dumps({"type": "survey_response"}),
            create_survey(event_id="ok"),
        ]
        assert await apply_all(sessions, batch) == ["dead_lettered", "dead_lettered", "applied"]
        assert await apply_all(sessions, batch) == ["duplicate", "duplicate", "duplicate"]
        async with sessions() as session:
            query = select(OutboxMessage).where(OutboxMessage.topic == "feedback.dlq.v1").order_by(OutboxMessage.id)
            dlq = list(await session.scalars(query))
            assert [m.topic for m in dlq] == ["feedback.dlq.v1", "feedback.dlq.v1"]
            assert "undecodable event" in dlq[0].value["reason"]
            assert dlq[0].value["payload"] == {"text": "{not json"}
            assert dlq[1].value["source"] == {"topic": "feedback.events.v1", "partition": 0, "offset": 1}
            outcomes = await session.scalars(select(ProcessedEvent.outcome).order_by(ProcessedEvent.offset))
            assert list(outcomes) == ["dead_lettered", "dead_lettered", "applied"]


async def test_a_record_without_event_id_is_dead_lettered_with_the_reason(database_url: str) -> None:
    # Ingest always gives an id; another producer writing to the topic might not.
    body = {k: v for k, v in create_survey().items() if k != "event_id"}
    async with sessions_for(database_url) as sessions:
        assert await apply_all(sessions, [dumps(body), create_survey(event_id="ok")]) == ["dead_lettered", "applied"]
        async with sessions() as session:
            query = select(OutboxMessage).where(OutboxMessage.topic == "feedback.dlq.v1")
            [dead] = list(await session.scalars(query))
            assert "event_id is required" in dead.value["reason"]
