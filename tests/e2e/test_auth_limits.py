"""Failed authentication is limited per client address and per presented key (a live ingest)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.kafka.broker import REPO
from shared.settings import Topics
from tests.e2e.test_pipeline import service_env
from tests.factories import INGEST_KEY, auth, create_survey
from tests.harness.processes import ServiceProcess
from tests.ingest.vendors.payloads import SECRET, create_zendesk_payload
from tests.ingest.vendors.payloads import encode as vendor_body

pytestmark = pytest.mark.e2e

BURST = 3


def start(kafka_bootstrap: str, topics: Topics, tmp_path: Path, trusted: str) -> ServiceProcess:
    env = service_env(
        kafka_bootstrap,
        topics,
        WEBHOOK_SECRET_ZENDESK=SECRET,
        INGEST_AUTH_FAILURE_BURST=str(BURST),
        INGEST_AUTH_FAILURES_PER_MIN="0.01",  # no refill worth a token during the test
        INGEST_TRUSTED_PROXIES=trusted,
    )
    process = ServiceProcess("services.ingest", env, tmp_path / f"ingest-{trusted or 'none'}.log")
    process.start()
    return process


@pytest.fixture
def behind_proxy(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[ServiceProcess]:
    """Ingest trusting X-Forwarded-For from loopback, where the test (the 'proxy') connects from."""
    process = start(kafka_bootstrap, topics, tmp_path, "127.0.0.1")
    yield process
    process.stop()


def post(ingest: ServiceProcess, key: str, client: str | None = None) -> httpx.Response:
    headers = auth(key) | ({"X-Forwarded-For": client} if client else {})
    return httpx.post(f"{ingest.url}/v1/events", json=create_survey(), headers=headers, timeout=10)


def test_an_address_that_spent_its_failures_gets_429_even_with_a_good_key(behind_proxy: ServiceProcess) -> None:
    assert [post(behind_proxy, f"wrong-{i}", "203.0.113.5").status_code for i in range(BURST)] == [401] * BURST
    limited = post(behind_proxy, "wrong-again", "203.0.113.5")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"] == "rate_limited"
    # Locked before the key is checked: guessing cannot go on at full speed, not even a right guess.
    assert post(behind_proxy, INGEST_KEY, "203.0.113.5").status_code == 429
    # Another client behind the same proxy is not affected.
    assert post(behind_proxy, INGEST_KEY, "203.0.113.6").status_code == 202
    assert post(behind_proxy, "wrong", "203.0.113.6").status_code == 401
    metrics = httpx.get(f"{behind_proxy.url}/metrics", timeout=10).text
    assert re.search(r'ingest_auth_failures_total\{outcome="refused"\} 4\.0', metrics)
    assert re.search(r'ingest_auth_failures_total\{outcome="limited"\} 2\.0', metrics)


def test_one_key_guessed_from_many_addresses_is_limited_too(behind_proxy: ServiceProcess) -> None:
    statuses = [post(behind_proxy, "the-same-wrong-key", f"198.51.100.{i}").status_code for i in range(BURST + 1)]
    assert statuses == [401] * BURST + [429]


def test_unsigned_vendor_webhooks_spend_the_address_failures(behind_proxy: ServiceProcess) -> None:
    body = vendor_body(create_zendesk_payload())
    statuses = [
        httpx.post(
            f"{behind_proxy.url}/v1/webhooks/zendesk",
            content=body,
            headers={"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.9"},
            timeout=10,
        ).status_code
        for _ in range(BURST + 1)
    ]
    assert statuses == [401] * BURST + [429]


def test_forwarded_addresses_from_an_untrusted_peer_are_ignored(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    ingest = start(kafka_bootstrap, topics, tmp_path, "")
    try:
        # Each request claims another client, but the peer is not a trusted proxy: they all count
        # against the peer's own address.
        statuses = [post(ingest, f"wrong-{i}", f"203.0.113.{i}").status_code for i in range(BURST + 1)]
        assert statuses == [401] * BURST + [429]
    finally:
        ingest.stop()


def test_ipv6_clients_are_limited_per_64(behind_proxy: ServiceProcess) -> None:
    # Issue 23, item 7: a client holding a /64 picks a fresh address for every guess.
    statuses = [post(behind_proxy, f"wrong-{i}", f"2001:db8:1:2::{i + 1:x}").status_code for i in range(BURST + 1)]
    assert statuses == [401] * BURST + [429]
    assert post(behind_proxy, INGEST_KEY, "2001:db8:1:3::1").status_code == 202, "another /64 is another client"


def test_the_left_of_the_forwarded_chain_is_the_clients_own_and_proves_nothing(behind_proxy: ServiceProcess) -> None:
    # The client writes "198.51.100.i" itself; the trusted proxy appends the address it saw.
    statuses = [post(behind_proxy, f"wrong-{i}", f"198.51.100.{i}, 203.0.113.77").status_code for i in range(BURST + 1)]
    assert statuses == [401] * BURST + [429]


def test_trusting_every_peer_is_refused_at_start() -> None:
    # Issue 23, item 7: with "*", the left-most, client-chosen X-Forwarded-For entry was the address.
    env = service_env("127.0.0.1:1", Topics(), INGEST_TRUSTED_PROXIES="*")
    done = subprocess.run(
        [sys.executable, "-m", "services.ingest"],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "INGEST_TRUSTED_PROXIES" in done.stderr
    assert "every peer" in done.stderr
