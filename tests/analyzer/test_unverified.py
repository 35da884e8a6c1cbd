"""Unverified answers (survey-link parameters without a valid link token): held and counted, never applied."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from services.analyzer.db.models import Account, Stakeholder, UnattributedAnswer, UnverifiedAnswer
from services.analyzer.repository import responses, unverified
from services.analyzer.settings import AnalyzerSettings
from tests.analyzer.helpers import apply_all, sessions_for
from tests.factories import create_account, create_stakeholder, create_survey

DIRECTORY = [
    create_account(account_id="acme"),
    create_stakeholder(account_id="acme", stakeholder_id="cfo-1", role="finance", aliases=["cfo@acme.example"]),
]


def link_answer(event_id: str, identity: str | None, **fields: Any) -> dict[str, Any]:
    body = {**create_survey(event_id=event_id, score=0, source="typeform", identity=identity), **fields}
    return {k: v for k, v in body.items() if v is not None}


async def state(url: str) -> dict[str, Any]:
    async with sessions_for(url) as sessions, sessions() as session:
        stats = await responses.stats_by_stakeholder(session, "acme")
        people = set(await session.scalars(select(Stakeholder.stakeholder_id)))
        accounts = set(await session.scalars(select(Account.account_id)))
        held = int(await session.scalar(select(func.count()).select_from(UnverifiedAnswer)) or 0)
        waiting = int(await session.scalar(select(func.count()).select_from(UnattributedAnswer)) or 0)
        counts = await unverified.counts(session, "acme")
    return {
        "answers": {k: v.responses for k, v in stats.items()},
        "people": people,
        "accounts": accounts,
        "held": held,
        "waiting": waiting,
        "unverified": (counts.total, counts.by_stakeholder),
    }


async def test_unverified_answers_create_nobody_and_count_against_known_people(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        await apply_all(
            sessions,
            [
                *DIRECTORY,
                link_answer("u1", "unverified", stakeholder_id="cfo-1"),
                link_answer("u2", "unverified", stakeholder_id=None, identities={"stakeholder": ["cfo@acme.example"]}),
                link_answer("u3", "unverified", stakeholder_id="ghost"),
                link_answer("u4", "unverified", account_id="newco", stakeholder_id="newco-cfo"),
                # A later version of u1's answer (same response id) counts once.
                link_answer("u5", "unverified", stakeholder_id="cfo-1", response_id="r1"),
                link_answer("u6", "unverified", stakeholder_id="cfo-1", response_id="r1"),
            ],
        )
    seen = await state(database_url)
    assert seen["answers"] == {}
    assert seen["people"] == {"cfo-1"}
    assert seen["accounts"] == {"acme"}
    assert (seen["held"], seen["waiting"]) == (6, 0)
    assert seen["unverified"] == (4, {"cfo-1": 3})


@pytest.mark.parametrize("identity", ["signed_link", "vendor", None])
async def test_verified_answers_are_applied(database_url: str, identity: str | None) -> None:
    async with sessions_for(database_url) as sessions:
        # identity None: posted with an ingest API key, which vouches for the ids itself.
        answer = link_answer("v1", identity, stakeholder_id="new-person")
        await apply_all(sessions, [*DIRECTORY, answer])
    seen = await state(database_url)
    assert seen["answers"] == {"new-person": 1}
    assert seen["held"] == 0


async def test_a_trusted_vendors_link_parameters_are_applied(database_url: str) -> None:
    async with sessions_for(database_url) as sessions:
        answers = [link_answer("t1", "unverified", stakeholder_id="ghost")]
        answers.append(link_answer("t2", "unverified", stakeholder_id="other", source="delighted"))
        await apply_all(sessions, [*DIRECTORY, *answers], trusted_link_sources=["typeform"])
    seen = await state(database_url)
    assert seen["answers"] == {"ghost": 1}
    assert seen["held"] == 1  # delighted is not trusted


def test_trust_link_parameters_reads_a_list_of_link_vendors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUST_LINK_PARAMETERS", "typeform, delighted")
    assert AnalyzerSettings(_env_file=None, environment="test").trust_link_parameters == ["typeform", "delighted"]
    monkeypatch.setenv("TRUST_LINK_PARAMETERS", "zendesk")  # its respondent is Zendesk's own: nothing to trust
    with pytest.raises(ValueError, match="'typeform' or 'delighted'"):
        AnalyzerSettings(_env_file=None, environment="test")
