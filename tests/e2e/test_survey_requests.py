"""Survey requests live: a journey moment through ingest, signed ``survey.requested`` webhooks at a real
receiver for the right people, answers through two vendors' webhooks carrying the request id, the
requests fulfilled and the account's coverage updated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from shared.settings import Topics
from tests.analyzer.webhooks.receiver import running_receiver
from tests.e2e.test_pipeline import analyzer_process, post_batch, service_env
from tests.factories import ANALYZER_KEY, auth, create_account, create_moment, create_stakeholder, create_survey
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value, wait_until
from tests.ingest.vendors.payloads import (
    SECRET,
    create_delighted_payload,
    create_typeform_payload,
    delighted_headers,
    encode,
    typeform_headers,
)

pytestmark = pytest.mark.e2e


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@pytest.fixture
def ingest(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[ServiceProcess]:
    secrets = {"WEBHOOK_SECRET_TYPEFORM": SECRET, "WEBHOOK_SECRET_DELIGHTED": SECRET}
    process = ServiceProcess(
        "services.ingest", service_env(kafka_bootstrap, topics, **secrets), tmp_path / "ingest.log"
    )
    process.start()
    yield process
    process.stop()


async def get(analyzer: ServiceProcess, path: str, **params: str) -> Any:
    async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY), timeout=30) as client:
        response = await client.get(path, params=params)
        response.raise_for_status()
        return response.json()


async def test_a_moment_asks_the_right_people_and_their_vendor_answers_fulfil_the_requests(
    kafka_bootstrap: str, topics: Topics, ingest: ServiceProcess, database_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    analyzer = analyzer_process(
        kafka_bootstrap,
        topics,
        database_url,
        tmp_path,
        "analyzer",
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        # The survey tools' link parameters name the respondent here (no link token in these payloads).
        TRUST_LINK_PARAMETERS="typeform,delighted",
        SURVEY_REQUEST_CADENCE_S="0",
    )
    analyzer.start()
    try:
        async with running_receiver() as receiver:
            async with httpx.AsyncClient(base_url=analyzer.url, headers=auth(ANALYZER_KEY)) as client:
                created = await client.post(
                    "/v1/subscriptions", json={"url": receiver.url, "event_types": ["survey.requested"]}
                )
                assert created.status_code == 201, created.text
                secret = created.json()["secret"]

            # Pat decides and was never heard; Fay may not be contacted; Ivy answered last week; Eve's
            # support ticket just closed.
            long_ago = iso(now - timedelta(days=60))
            renewal = (now + timedelta(days=40)).date().isoformat()
            events = [
                create_account(name="Acme", renewal_date=renewal, occurred_at=long_ago),
                create_stakeholder(stakeholder_id="pat", role="procurement", occurred_at=long_ago),
                create_stakeholder(stakeholder_id="fay", role="finance", contactable=False, occurred_at=long_ago),
                create_stakeholder(stakeholder_id="ivy", role="it", occurred_at=long_ago),
                create_stakeholder(stakeholder_id="eve", role="end_user", occurred_at=long_ago),
                create_survey(stakeholder_id="ivy", score=3, occurred_at=iso(now - timedelta(days=6))),
                create_moment(
                    moment="support_close", stakeholder_id="eve", occurred_at=iso(now - timedelta(minutes=5))
                ),
            ]
            assert (await post_batch(ingest, events)).status_code == 202

            async def two_received() -> bool:
                return len(receiver.requests) >= 2

            await wait_until(two_received, what="two survey.requested webhooks")
            bodies = []
            for request in receiver.requests:
                Webhook(secret).verify(request.body, request.headers)
                bodies.append(json.loads(request.body))
            assert {b["type"] for b in bodies} == {"survey.requested"}
            asked = {b["data"]["stakeholder_id"]: b["data"] for b in bodies}
            assert set(asked) == {"eve", "pat"}
            assert asked["eve"]["reason"] == "moment_participant"
            assert [q["metric"] for q in asked["eve"]["questions"]] == ["csat", "ces"]
            assert asked["pat"]["reason"] == "decision_maker_unheard"

            # A second moment asks nobody again: Eve and Pat were asked minutes ago. Ivy's answer after it
            # (same account, same partition) shows the moment was processed.
            again = [
                create_moment(moment="qbr", occurred_at=iso(now - timedelta(minutes=2))),
                create_survey(stakeholder_id="ivy", score=4, occurred_at=iso(now - timedelta(minutes=1))),
            ]
            assert (await post_batch(ingest, again)).status_code == 202
            await wait_for_value(
                lambda: get(analyzer, "/v1/accounts/acme"),
                lambda view: any(s["stakeholder_id"] == "ivy" and s["responses"] == 2 for s in view["stakeholders"]),
                what="the second moment and Ivy's answer processed",
            )
            requests = await get(analyzer, "/v1/survey-requests", account_id="acme")
            assert sorted(r["stakeholder_id"] for r in requests) == ["eve", "pat"]

            # Eve answers through Typeform (hidden field), Pat through Delighted (person property).
            typeform = create_typeform_payload(
                submitted_at=iso(now),
                hidden={"stakeholder_id": "eve", "account_id": "acme", "request_id": asked["eve"]["request_id"]},
            )
            delighted = create_delighted_payload(
                updated_at=int(now.timestamp()),
                person_properties={
                    "Account ID": "acme",
                    "Stakeholder ID": "pat",
                    "Request ID": asked["pat"]["request_id"],
                },
            )
            async with httpx.AsyncClient(base_url=ingest.url) as client:
                for source, payload, headers in (
                    ("typeform", typeform, typeform_headers),
                    ("delighted", delighted, delighted_headers),
                ):
                    body = encode(payload)
                    response = await client.post(f"/v1/webhooks/{source}", content=body, headers=headers(body))
                    assert response.status_code == 202, (source, response.text)

            fulfilled = await wait_for_value(
                lambda: get(analyzer, "/v1/survey-requests", account_id="acme", status="fulfilled"),
                lambda rows: len(rows) == 2,
                what="both requests fulfilled",
            )
            assert {r["request_id"] for r in fulfilled} == {d["request_id"] for d in asked.values()}
            coverage = await get(analyzer, "/v1/accounts/acme/coverage")
            assert coverage["requests"] == {
                "asked": 2,
                "fulfilled": 2,
                "expired": 0,
                "pending": 0,
                "response_rate": 1.0,
            }
            roles = {r["role"]: r for r in coverage["roles"]}
            assert roles["end_user"]["heard"] == 1
            assert {(d["stakeholder_id"], d["heard"]) for d in coverage["decision_makers"]} == {
                ("pat", True),
                ("fay", False),
            }
            assert len(receiver.requests) == 2, "nobody else was asked"
    finally:
        analyzer.stop()
