"""Who may answer as whom, live: a Typeform-signed delivery naming a client's CFO moves nothing without a link token.

Typeform signs its deliveries honestly, but the hidden fields that name the respondent come from the survey
URL, which whoever holds the link can edit. Through ingest's real HTTP endpoint, a real broker and the
analyzer's real database: such an answer is held and counted as unverified; it creates no account or
person and leaves the CFO's position where their own answers put it. The same answer through a link
token made for the CFO counts, and the same link answers once however often it is submitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.settings import Topics
from shared.survey_links import mint
from tests.e2e.test_pipeline import account, analyzer_process, applied, post_batch, service_env
from tests.factories import SURVEY_LINK_SECRET, create_account, create_stakeholder, create_survey
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value
from tests.ingest.vendors import payloads as p

pytestmark = pytest.mark.e2e


@pytest.fixture
def ingest(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[ServiceProcess]:
    env = service_env(kafka_bootstrap, topics, WEBHOOK_SECRET_TYPEFORM=p.SECRET)
    process = ServiceProcess("services.ingest", env, tmp_path / "ingest.log")
    process.start()
    yield process
    process.stop()


def token(account_id: str, person: str) -> str:
    return mint(SURVEY_LINK_SECRET, account_id, person, datetime.now(UTC) + timedelta(days=1))


async def answer_through_link(ingest: ServiceProcess, hidden: dict[str, str], submission: str) -> dict[str, Any]:
    """A Typeform delivery of one NPS 0, signed with the webhook secret, posted to ingest over HTTP."""
    payload = p.create_typeform_payload(
        hidden=hidden,
        nps=0,
        ease=None,
        stars=None,
        comment=None,
        submission_id=submission,
        event_id=f"event-{submission}",
        submitted_at="2026-05-02T10:00:00Z",
    )
    body = p.encode(payload)
    async with httpx.AsyncClient(base_url=ingest.url, timeout=30) as client:
        response = await client.post("/v1/webhooks/typeform", content=body, headers=p.typeform_headers(body))
    assert response.status_code == 202, response.text
    result: dict[str, Any] = response.json()
    return result


def person(view: dict[str, Any] | None, stakeholder_id: str) -> dict[str, Any]:
    assert view is not None
    return next(s for s in view["stakeholders"] if s["stakeholder_id"] == stakeholder_id)


async def test_an_edited_survey_link_cannot_answer_as_the_cfo(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, database_url: str, tmp_path: Path
) -> None:
    analyzer = analyzer_process(kafka_bootstrap, topics, database_url, tmp_path, "analyzer")
    analyzer.start()
    try:
        # The CFO's own answer, posted with the ingest API key: a decision maker at 10.
        directory = [
            create_account(account_id="acme"),
            create_stakeholder(account_id="acme", stakeholder_id="cfo-1", role="finance"),
            create_survey(account_id="acme", stakeholder_id="cfo-1", metric="nps", score=10),
        ]
        assert (await post_batch(ingest, directory)).status_code == 202
        before = await wait_for_value(
            lambda: account(analyzer, "acme"),
            lambda v: v is not None and person(v, "cfo-1")["position"] is not None,
            what="the CFO's own answer applied",
        )
        cfo_before = person(before, "cfo-1")
        assert cfo_before["decision_maker"] is True

        # Anyone holding a survey link types the CFO's ids (or new ones) into it and answers 0.
        edited = [
            ({"account_id": "acme", "stakeholder_id": "cfo-1"}, "no link token"),
            ({"account_id": "acme", "stakeholder_id": "ghost-cfo"}, "no link token"),
            ({"account_id": "acme", "stakeholder_id": "cfo-1", "link_token": token("acme", "intern-4")}, "another"),
            ({"account_id": "newco", "stakeholder_id": "newco-cfo"}, "no link token"),
        ]
        for number, (hidden, reason) in enumerate(edited):
            accepted = await answer_through_link(ingest, hidden, f"edited-{number}")
            assert reason in accepted["unverified_reason"]
        await wait_for_value(lambda: applied(analyzer), lambda n: n >= 3 + len(edited), what="every answer applied")

        after = await account(analyzer, "acme")
        assert after is not None
        assert {s["stakeholder_id"] for s in after["stakeholders"]} == {"cfo-1"}, "no person was created"
        assert await account(analyzer, "newco") is None, "no account was created"
        cfo_after = person(after, "cfo-1")
        assert (cfo_after["position"], cfo_after["responses"]) == (cfo_before["position"], 1)
        assert before is not None
        assert after["roles"] == before["roles"]
        # Held and visible: counted against the CFO the directory knows, and at the account.
        assert cfo_after["unverified_responses"] == 2
        assert after["unverified_answers"] == 3

        # The same answer through a link the supplier signed for the CFO counts, once per link.
        signed = {"account_id": "acme", "stakeholder_id": "cfo-1", "link_token": token("acme", "cfo-1")}
        for submission in ("signed-1", "signed-2"):
            accepted = await answer_through_link(ingest, signed, submission)
            assert "unverified_reason" not in accepted
        moved = await wait_for_value(
            lambda: account(analyzer, "acme"),
            lambda v: v is not None and person(v, "cfo-1")["position"] < cfo_before["position"],
            what="the signed link's answer applied to the CFO",
        )
        await wait_for_value(lambda: applied(analyzer), lambda n: n >= 3 + len(edited) + 2, what="both submissions")
        final = await account(analyzer, "acme")
        assert person(final, "cfo-1")["responses"] == 2, "a resubmitted link replaces its answer"
        assert person(final, "cfo-1")["position"] == person(moved, "cfo-1")["position"]
    finally:
        analyzer.stop()
