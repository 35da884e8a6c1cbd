"""The analyzer behind a gateway: each client its own failed-authentication budget (issue 23, items 4, 5).

The analyzer runs as a live process. The test connects from 127.0.0.2, standing in for the compose
gateway (which is never on the analyzer's loopback), and names the client in ``X-Forwarded-For`` as
the gateway does.
"""

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
from tests.e2e.test_pipeline import analyzer_process, service_env
from tests.factories import ANALYZER_KEY, auth
from tests.harness.processes import ServiceProcess

pytestmark = pytest.mark.e2e

GATEWAY = "127.0.0.2"
BURST = 10  # ANALYZER_AUTH_FAILURE_BURST's default, as the dashboard's own throttle had


@pytest.fixture
def analyzer(kafka_bootstrap: str, topics: Topics, sqlite_url: str, tmp_path: Path) -> Iterator[ServiceProcess]:
    process = analyzer_process(
        kafka_bootstrap, topics, sqlite_url, tmp_path, "proxies", ANALYZER_TRUSTED_PROXIES=GATEWAY
    )
    process.start()
    yield process
    process.stop()


def via_gateway(analyzer: ServiceProcess, client: str) -> httpx.Client:
    """A client whose requests reach the analyzer from the gateway's address, naming ``client``."""
    return httpx.Client(
        base_url=analyzer.url,
        transport=httpx.HTTPTransport(local_address=GATEWAY),
        headers={"X-Forwarded-For": f"{client}"},
        timeout=10,
    )


def sign_in(browser: httpx.Client, key: str) -> httpx.Response:
    form = browser.get("/dashboard/login").text
    csrf = re.search(r'name="csrf" value="([^"]*)"', form)
    assert csrf, form
    return browser.post("/dashboard/login", data={"csrf": csrf.group(1), "next": "/dashboard", "key": key})


def test_one_users_failed_sign_ins_do_not_lock_the_others_out(analyzer: ServiceProcess) -> None:
    with via_gateway(analyzer, "203.0.113.5") as guesser, via_gateway(analyzer, "203.0.113.6") as colleague:
        assert [sign_in(guesser, f"wrong-{i}").status_code for i in range(BURST)] == [401] * BURST
        assert sign_in(guesser, "wrong-again").status_code == 429
        # Before issue 23 every user behind the gateway shared its address, and this was 429 too.
        assert sign_in(colleague, ANALYZER_KEY).status_code == 303


def test_the_json_api_limits_failed_authentication_per_client(analyzer: ServiceProcess) -> None:
    with via_gateway(analyzer, "203.0.113.7") as guesser, via_gateway(analyzer, "203.0.113.8") as colleague:
        statuses = [guesser.get("/v1/alerts", headers=auth(f"wrong-{i}")).status_code for i in range(BURST + 1)]
        assert statuses == [401] * BURST + [429]
        limited = guesser.get("/v1/alerts", headers=auth(ANALYZER_KEY))
        assert limited.status_code == 429, "locked before the key is checked"
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"] == "rate_limited"
        assert colleague.get("/v1/alerts", headers=auth(ANALYZER_KEY)).status_code == 200
    metrics = httpx.get(f"{analyzer.url}/metrics", timeout=10).text
    assert re.search(r'analyzer_auth_failures_total\{outcome="refused"\} 10\.0', metrics)
    assert re.search(r'analyzer_auth_failures_total\{outcome="limited"\} 2\.0', metrics)


def test_a_peer_that_is_not_a_trusted_proxy_cannot_name_other_clients(
    kafka_bootstrap: str, topics: Topics, sqlite_url: str, tmp_path: Path
) -> None:
    process = analyzer_process(kafka_bootstrap, topics, sqlite_url, tmp_path, "untrusted", ANALYZER_TRUSTED_PROXIES="")
    process.start()
    try:
        statuses = []
        for i in range(BURST + 1):
            with via_gateway(process, f"198.51.100.{i}") as client:
                statuses.append(client.get("/v1/alerts", headers=auth(f"wrong-{i}")).status_code)
        assert statuses == [401] * BURST + [429]
    finally:
        process.stop()


def refused_start(module: str, env: dict[str, str]) -> str:
    """Start a service that must refuse its configuration; its stderr."""
    done = subprocess.run(
        [sys.executable, "-m", module],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    return done.stderr


@pytest.mark.parametrize(
    ("module", "name", "host"),
    [
        ("services.ingest", "INGEST_API_KEYS", "INGEST_HOST"),
        ("services.analyzer", "ANALYZER_API_KEYS", "ANALYZER_HOST"),
    ],
)
@pytest.mark.parametrize("key", ["dev-ingest-key,dev-analyzer-key", "short-but-not-a-placeholder"])
def test_weak_keys_are_refused_on_a_network_address(module: str, name: str, host: str, key: str) -> None:
    env = service_env("127.0.0.1:1", Topics(), ENVIRONMENT="development", **{name: key, host: "0.0.0.0"})  # noqa: S104
    error = refused_start(module, env)
    assert name in error
    assert host in error
    assert key.split(",")[0] not in error, "the keys themselves are never printed"
