"""Erasing a person: gone from every table, accounts recomputed, later replays of their records skipped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.assessment import Assessor
from services.analyzer.db.models import (
    AccountModel,
    Erasure,
    ErasureSubject,
    OutboxMessage,
    ProcessedEvent,
    Stakeholder,
)
from services.analyzer.db.request_models import SurveyRequest
from services.analyzer.people import service
from services.analyzer.people.redaction import ERASED, Needles, subject_hash
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.requests.service import RequestConfig
from shared.settings import Topics
from tests.analyzer.helpers import EVERYTHING_IS_NEWS, apply_all, encode, sessions_for
from tests.factories import create_account, create_moment, create_stakeholder, create_survey
from tests.harness.databases import create_database, database_text

EMAIL = "Zoe.Quist@Client.example"
NAME = "Zoe Quistgaard"
COMMENT = "Quistgaard here: the invoicing portal is a maze and nobody answers"
TRACES = ("zq-771", "zoe.quist@client.example", "zendesk:user:771", "quistgaard", "invoicing portal is a maze")


def story() -> list[dict[str, Any]]:
    """Acme: Zoe (finance, known by an id, an e-mail and a Zendesk alias) unhappy; Pat and Ivy content."""
    events: list[dict[str, Any]] = [
        create_account(name="Acme", renewal_date="2026-12-01"),
        create_stakeholder(stakeholder_id="zq-771", role="finance", name=NAME, aliases=[EMAIL, "zendesk:user:771"]),
        create_stakeholder(stakeholder_id="pat", role="procurement", name="Pat Doe"),
        create_stakeholder(stakeholder_id="ivy", role="it", name="Ivy Roe"),
        create_moment(stakeholder_id="zq-771", occurred_at="2026-05-02T09:00:00Z", attributes={"contact": EMAIL}),
    ]
    events.append(
        create_survey(stakeholder_id="zq-771", score=0, source="typeform", identity="unverified", comment=COMMENT)
    )
    for day in range(3, 20, 2):
        at = f"2026-05-{day:02d}T10:00:00Z"
        events.append(create_survey(stakeholder_id="zq-771", score=1, comment=COMMENT, occurred_at=at))
        events.append(create_survey(stakeholder_id="pat", score=9, occurred_at=at))
        events.append(create_survey(stakeholder_id="ivy", score=10, occurred_at=at))
    return events


def found(text: str, needles: Iterable[str] = TRACES) -> list[str]:
    return [n for n in needles if n.lower() in text]


class Shredder:
    """Stands for the key ring: records what it was asked to destroy (Kafka's part is tested live)."""

    def __init__(self, fail: bool = False) -> None:
        self.asked: list[list[str]] = []
        self.fail = fail

    async def shred_subjects(self, ids: Iterable[str]) -> int:
        self.asked.append(sorted(ids))
        if self.fail:
            raise TimeoutError("kafka did not answer")
        return 2


async def erase(
    sessions: async_sessionmaker[AsyncSession], identifier: str, shredder: Shredder | None = None
) -> service.ErasureReport:
    assessor = Assessor(EVERYTHING_IS_NEWS, Topics())
    return await service.erase(sessions, sessions, assessor, identifier, by="key:test", shredder=shredder)


async def test_an_erased_person_leaves_every_table_and_their_account_is_recomputed(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, story())
        # A later moment about her makes a survey request naming her (its outbox record carries her name).
        support = create_moment(moment="support_close", stakeholder_id="zq-771", occurred_at="2026-07-01T09:00:00Z")
        await apply_all(sessions, [support], requests=RequestConfig())
        async with sessions() as session:
            asked = set(await session.scalars(select(SurveyRequest.stakeholder_id)))
        assert "zq-771" in asked
        before = await database_text(database_url)
        assert found(before) == list(TRACES), "the story leaves the person's traces to erase"

        shredder = Shredder()
        report = await erase(sessions, " zoe.quist@CLIENT.example ")  # an alias, any case, padded

        after = await database_text(database_url)
        assert found(after) == []
        assert ERASED in after  # the moment's attributes and the alerts' evidence kept, redacted
        assert report.accounts == ["acme"]
        assert report.counts["people"] == 1
        assert report.counts["answers"] == 9
        assert report.counts["aliases"] == 2
        assert report.counts["moments"] == 2
        assert report.counts["unverified"] == 1
        assert report.counts["survey_requests"] == 1
        assert report.counts["keys_destroyed"] == 0  # no key ring here
        async with sessions() as session:
            left = set(await session.scalars(select(Stakeholder.stakeholder_id)))
            erasure = await session.get(Erasure, report.erasure_id)
            hashes = set(await session.scalars(select(ErasureSubject.subject_hash)))
        assert left == {"pat", "ivy"}
        assert erasure is not None
        assert erasure.erased_by == "key:test"
        assert hashes == {subject_hash(i) for i in ("zq-771", EMAIL, "zendesk:user:771")}

        # The shredder is asked for every id the person was known by, before anything is deleted.
        await apply_all(sessions, [create_stakeholder(stakeholder_id="sam", role="finance", aliases=["sam@x.example"])])
        await erase(sessions, "sam", shredder)
        assert shredder.asked == [["sam", "sam@x.example"]]


async def test_the_account_has_no_trace_of_the_person_in_its_state(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, story())
        await erase(sessions, "zq-771")
        async with sessions() as session:
            model = await session.get(AccountModel, "acme")
        assert model is not None
        assert "zq-771" not in repr(model.document)
        assert model.divergence is None or model.divergence < 1.0  # Pat and Ivy agree


async def test_records_published_before_the_erasure_are_skipped_and_later_ones_applied(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, story()[:4])
        report = await erase(sessions, EMAIL)
        erased_ms = int(report.erased_at.timestamp() * 1000)
        processor = EventProcessor(Topics(), EVERYTHING_IS_NEWS)
        late = [
            create_survey(stakeholder_id="zq-771", score=0, comment=COMMENT, event_id="in-flight"),
            create_survey(stakeholder_id="unknown", identities={"stakeholder": [EMAIL]}, score=0, event_id="by-mail"),
            create_moment(stakeholder_id="zq-771", event_id="moment", occurred_at="2026-05-03T09:00:00Z"),
            create_survey(stakeholder_id="zq-771", score=7, event_id="answered-again"),
        ]
        published = [erased_ms - 5000, erased_ms - 4000, erased_ms - 3000, erased_ms + 60_000]
        records = [
            (encode(body), RecordMeta("feedback.events.v1", 0, 100 + i, b"acme", None, at))
            for i, (body, at) in enumerate(zip(late, published, strict=True))
        ]
        async with sessions() as session, session.begin():
            outcomes = await processor.process_batch(session, records)
        assert outcomes == ["erased", "erased", "applied", "applied"]
        async with sessions() as session:
            ledger = dict((await session.execute(select(ProcessedEvent.event_id, ProcessedEvent.outcome))).all())
        assert ledger["in-flight"] == "erased"
        text = await database_text(database_url)
        assert "invoicing portal" not in text
        assert "answered-again" in text  # the person answered again after the erasure: a new fact
        # Replayed, the batch changes nothing.
        async with sessions() as session, session.begin():
            assert await processor.process_batch(session, records) == ["duplicate"] * 4


async def test_an_unknown_id_is_recorded_and_a_failed_shredding_changes_nothing(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        report = await erase(sessions, "nobody@nowhere.example")
        assert report.accounts == []
        assert report.counts["people"] == 0

        await apply_all(sessions, story()[:4])
        before = await database_text(database_url)
        with pytest.raises(service.ShreddingFailed):
            await erase(sessions, "zq-771", Shredder(fail=True))
        assert await database_text(database_url) == before


def test_redaction_replaces_ids_and_names_anywhere_and_short_values_only_whole() -> None:
    needles = Needles.of(["zq-771", "Zoe@x.example"], ["Al"], ["ok", COMMENT])
    assert needles.text("mail ZOE@X.EXAMPLE now") == f"mail {ERASED} now"
    assert needles.text("Alert for Al") == "Alert for Al"  # a two-letter name is replaced only whole
    assert needles.text("al") == ERASED
    assert needles.text("ok") == ERASED
    assert needles.text("looks ok to me") == "looks ok to me"
    assert needles.json({"zq-771": [f"said: {COMMENT}", 3, None]}) == {ERASED: [f"said: {ERASED}", 3, None]}
    assert not Needles.of([], [], [])


def test_the_subject_hash_ignores_case_and_padding() -> None:
    assert subject_hash(" Zoe@X.example") == subject_hash("zoe@x.example")
    assert subject_hash("zoe@x.example") != subject_hash("zoe@y.example")
    assert len(subject_hash("a")) == 64


async def test_an_erasure_replayed_from_its_record_erases_the_person_from_a_database_that_lacked_it(
    database_url: str, tmp_path: Path
) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, story())
        await erase(sessions, "zoe.quist@client.example")
        async with sessions() as session:
            [message] = list(
                await session.scalars(select(OutboxMessage).where(OutboxMessage.topic == Topics().erasures))
            )
    record = message.value
    assert set(record) == {"erasure_id", "erased_at", "erased_by", "subjects"}
    assert found(json.dumps(record).lower()) == []  # hashes only

    # A database that never saw the erasure (a backup from before it, say).
    older = await asyncio.to_thread(create_database, "sqlite", tmp_path=tmp_path, pg_admin_url=None)
    async with sessions_for(older) as sessions:
        await apply_all(sessions, story())
        assessor = Assessor(EVERYTHING_IS_NEWS, Topics())
        assert await service.replay_erasures(sessions, assessor, [record]) == 1
        assert found(await database_text(older)) == []
        assert await service.replay_erasures(sessions, assessor, [record]) == 0
        async with sessions() as session:
            erasure = await session.get(Erasure, record["erasure_id"])
        assert erasure is not None
        assert erasure.counts["answers"] == 9
