"""No API key or webhook secret ever reaches the services' logs, even at DEBUG and on failures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from shared.settings import Topics
from tests.e2e.test_pipeline import analyzer_process, service_env
from tests.factories import ANALYZER_KEY, INGEST_KEY, PERSONAL_DATA_KEY, auth, create_survey
from tests.harness.databases import create_database
from tests.harness.processes import ServiceProcess
from tests.ingest.vendors.payloads import SECRET, create_zendesk_payload, zendesk_headers
from tests.ingest.vendors.payloads import encode as vendor_body

pytestmark = pytest.mark.e2e

PRESENTED_WRONG_KEY = "sk-live-someone-elses-real-key-4f9a"


def test_keys_and_secrets_stay_out_of_the_logs(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> None:
    ingest = ServiceProcess(
        "services.ingest",
        service_env(kafka_bootstrap, topics, WEBHOOK_SECRET_ZENDESK=SECRET, LOG_LEVEL="DEBUG"),
        tmp_path / "ingest.log",
    )
    database = create_database("sqlite", tmp_path=tmp_path, pg_admin_url=None)
    analyzer = analyzer_process(
        kafka_bootstrap, topics, database, tmp_path, "secrets", LOG_LEVEL="DEBUG", WEBHOOK_ALLOW_PRIVATE_TARGETS="true"
    )
    ingest.start()
    analyzer.start()
    try:
        with httpx.Client(timeout=10) as client:
            # Ingest: accepted, refused key, a good and a badly signed vendor delivery.
            assert (
                client.post(f"{ingest.url}/v1/events", json=create_survey(), headers=auth(INGEST_KEY)).status_code
                == 202
            )
            assert (
                client.post(
                    f"{ingest.url}/v1/events", json=create_survey(), headers=auth(PRESENTED_WRONG_KEY)
                ).status_code
                == 401
            )
            body = vendor_body(create_zendesk_payload())
            stamp = datetime.now(UTC).isoformat()
            good = client.post(
                f"{ingest.url}/v1/webhooks/zendesk", content=body, headers=zendesk_headers(body, timestamp=stamp)
            )
            assert good.status_code in (200, 202), good.text
            bad = zendesk_headers(body, secret="not-the-secret", timestamp=stamp)
            assert client.post(f"{ingest.url}/v1/webhooks/zendesk", content=body, headers=bad).status_code == 401
            # Analyzer: a subscription (its signing secret is returned once), reads, a refused key.
            created = client.post(
                f"{analyzer.url}/v1/subscriptions",
                json={"url": "http://127.0.0.1:9/hook", "event_types": ["alert.opened"]},
                headers=auth(ANALYZER_KEY),
            )
            assert created.status_code == 201, created.text
            subscription_secret = created.json()["secret"]
            assert client.get(f"{analyzer.url}/v1/accounts", headers=auth(ANALYZER_KEY)).status_code == 200
            assert client.get(f"{analyzer.url}/v1/accounts", headers=auth(PRESENTED_WRONG_KEY)).status_code == 401
            # Dashboard: signing in with a wrong key, then with the right one (the form re-issues its token).
            assert client.get(f"{analyzer.url}/dashboard/login").status_code == 200
            for key, status in ((PRESENTED_WRONG_KEY, 401), (ANALYZER_KEY, 303)):
                form = {"csrf": client.cookies["sd_login"], "key": key}
                assert client.post(f"{analyzer.url}/dashboard/login", data=form).status_code == status
            session_cookie = client.cookies["sd_session"]
            assert client.get(f"{analyzer.url}/dashboard").status_code == 200
    finally:
        ingest.stop()
        analyzer.stop()
    logs = {"ingest": ingest.log_path.read_text(), "analyzer": analyzer.log_path.read_text()}
    assert all(logs.values()), "the services logged nothing at DEBUG: the check below would prove nothing"
    secrets = {
        "ingest key": INGEST_KEY,
        "analyzer key": ANALYZER_KEY,
        "a presented wrong key": PRESENTED_WRONG_KEY,
        "the Zendesk secret": SECRET,
        "a subscription secret": subscription_secret,
        "its key part": subscription_secret.removeprefix("whsec_"),
        "a dashboard session": session_cookie,
        "the personal data key": PERSONAL_DATA_KEY,
    }
    leaks = [
        f"{what} in the {service} log"
        for what, value in secrets.items()
        for service, text in logs.items()
        if value in text
    ]
    assert leaks == []
