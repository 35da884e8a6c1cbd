"""Identity resolution: vendor answers are attributed via the directory, early or late, never dropped."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from services.analyzer.db.models import Response, UnattributedAnswer
from services.analyzer.repository import responses
from tests.analyzer.helpers import apply_all, sessions_for
from tests.factories import create_account, create_stakeholder, create_survey


def vendor_answer(event_id: str, *, people: list[str], accounts: list[str], **extra: Any) -> dict[str, Any]:
    """A vendor-mapped answer naming people and organisations only by identities."""
    body = create_survey(event_id=event_id, identities={"stakeholder": people, "account": accounts}, **extra)
    del body["account_id"], body["stakeholder_id"]
    return body


DIRECTORY = [
    create_account(account_id="acme", aliases=["zendesk:org:900017"]),
    create_stakeholder(account_id="acme", stakeholder_id="crm-42", role="it", aliases=["zendesk:user:4412"]),
]


async def held(url: str) -> tuple[dict[str, int], int]:
    async with sessions_for(url) as sessions, sessions() as session:
        stats = await responses.stats_by_stakeholder(session, "acme")
        waiting = await session.scalar(select(func.count()).select_from(UnattributedAnswer))
        return {k: v.responses for k, v in stats.items()}, int(waiting or 0)


@pytest.mark.parametrize("directory_first", [True, False], ids=["directory-first", "directory-late"])
async def test_answer_is_attributed_whatever_arrives_first(database_url: str, directory_first: bool) -> None:
    answer = vendor_answer("z1", people=["jane@acme.example", "zendesk:user:4412"], accounts=["zendesk:org:900017"])
    order = [*DIRECTORY, answer] if directory_first else [answer, *DIRECTORY]
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, order)
    assert await held(database_url) == ({"crm-42": 1}, 0)


async def test_unknown_person_waits_and_counts_once_named(database_url: str) -> None:
    answer = vendor_answer("z1", people=["jane@acme.example"], accounts=["zendesk:org:1"])
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [answer])
        assert await held(database_url) == ({}, 1)
        # Naming the account alone is not enough: the person is still unknown.
        await apply_all(sessions, [create_account(account_id="acme", aliases=["zendesk:org:1"])])
        assert await held(database_url) == ({}, 1)
        # The directory learns the email as an alias of a person: the answer counts for them.
        await apply_all(sessions, [create_stakeholder(stakeholder_id="crm-7", aliases=["jane@acme.example"])])
        assert await held(database_url) == ({"crm-7": 1}, 0)


async def test_account_comes_from_the_resolved_person_when_the_payload_names_none(database_url: str) -> None:
    answer = vendor_answer("d1", people=["jane@acme.example"], accounts=[])
    person = create_stakeholder(stakeholder_id="jane@acme.example", role="finance")
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [person, answer])
        async with sessions() as session:
            row = await session.scalar(select(Response).where(Response.event_id == "d1"))
            assert row is not None
            assert (row.account_id, row.stakeholder_id) == ("acme", "jane@acme.example")


async def test_direct_external_id_at_a_known_account_is_counted_at_once(database_url: str) -> None:
    body = create_survey(event_id="t1", stakeholder_id="crm-99", identities={"stakeholder": [], "account": []})
    body["account_id"] = "zendesk:org:900017"
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [*DIRECTORY, body])
    counts, waiting = await held(database_url)
    assert counts == {"crm-99": 1}
    assert waiting == 0


async def test_changed_vendor_answer_replaces_the_earlier_one_after_late_attribution(database_url: str) -> None:
    first = vendor_answer("v1", people=["zendesk:user:4412"], accounts=[], response_id="zendesk:ticket:1", score=3)
    second = vendor_answer(
        "v2",
        people=["zendesk:user:4412"],
        accounts=[],
        response_id="zendesk:ticket:1",
        score=9,
        occurred_at="2026-05-02T10:00:00Z",
    )
    async with sessions_for(database_url) as sessions:
        await apply_all(sessions, [second, first, *DIRECTORY])
        async with sessions() as session:
            current = await responses.current_version(session, "zendesk:ticket:1", "acme")
            assert current is not None
            assert (current.event_id, current.score) == ("v2", 9)
    assert await held(database_url) == ({"crm-42": 1}, 0)
