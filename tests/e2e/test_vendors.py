"""Each vendor's signed example through the real pipeline, with the directory arriving late."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.settings import Topics
from tests.e2e.test_pipeline import account, analyzer_process, post_batch, response_counts, service_env
from tests.factories import create_account, create_stakeholder
from tests.harness.processes import ServiceProcess
from tests.harness.waiting import wait_for_value
from tests.ingest.test_webhooks_api import SIGNED_EXAMPLES
from tests.ingest.vendors.payloads import SECRET

pytestmark = pytest.mark.e2e


@pytest.fixture
def ingest(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[ServiceProcess]:
    secrets = {f"WEBHOOK_SECRET_{source.upper()}": SECRET for source in SIGNED_EXAMPLES}
    process = ServiceProcess(
        "services.ingest", service_env(kafka_bootstrap, topics, **secrets), tmp_path / "ingest.log"
    )
    process.start()
    yield process
    process.stop()


async def test_vendor_answers_wait_for_the_directory_and_are_then_attributed(
    kafka_bootstrap: str,
    topics: Topics,
    ingest: ServiceProcess,
    database_url: str,
    tmp_path: Path,
) -> None:
    analyzer = analyzer_process(kafka_bootstrap, topics, database_url, tmp_path, "analyzer")
    analyzer.start()
    try:
        async with httpx.AsyncClient(base_url=ingest.url) as client:
            for source, example in SIGNED_EXAMPLES.items():
                body, headers = example()
                response = await client.post(f"/v1/webhooks/{source}", content=body, headers=headers)
                assert response.status_code == 202, (source, response.text)

        # Typeform (hidden fields) and Intercom (external ids) name the account and person by the
        # customer's own ids: counted at once, as the API would.
        await wait_for_value(
            lambda: account(analyzer, "acme"),
            lambda v: response_counts(v) == {"jane": 3, "crm-1042": 1},
            what="typeform's three answers for jane and intercom's for crm-1042",
        )
        # Zendesk, Delighted and Freshdesk name Jane only by email and vendor ids: they wait.
        directory = [
            create_account(account_id="acme", aliases=["zendesk:org:900017", "freshdesk:company:43000700001"]),
            create_stakeholder(
                stakeholder_id="crm-jane",
                role="it",
                aliases=["jane.doe@acme.example", "zendesk:user:4412"],
            ),
        ]
        assert (await post_batch(ingest, directory)).status_code == 202
        view = await wait_for_value(
            lambda: account(analyzer, "acme"),
            lambda v: response_counts(v) == {"jane": 3, "crm-1042": 1, "crm-jane": 3},
            what="zendesk, delighted and freshdesk answers attributed to crm-jane",
        )
        assert view is not None
        roles = {s["stakeholder_id"]: s["role"] for s in view["stakeholders"]}
        assert roles == {"jane": "unassigned", "crm-1042": "unassigned", "crm-jane": "it"}
    finally:
        analyzer.stop()
