"""What ``GET .../deliveries`` says about a failed attempt: a generic reason, never an internal name or address."""

from __future__ import annotations

import json
import logging
import socket
import ssl

import httpx
import pytest

from services.analyzer.webhooks.reasons import failure_reason, status_reason
from services.analyzer.webhooks.ssrf import ForbiddenTarget
from tests.analyzer.helpers import sessions_for
from tests.analyzer.webhooks.flows import alert_change
from tests.analyzer.webhooks.receiver import HANG, running_receiver
from tests.analyzer.webhooks.test_webhook_api import EVENTS, api
from tests.harness.waiting import wait_for_value


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def first_attempt(client: httpx.AsyncClient, sub_id: str) -> dict[str, object]:
    page = await wait_for_value(
        lambda: _deliveries(client, sub_id),
        lambda p: bool(p["deliveries"]) and bool(p["deliveries"][0]["attempts"]),
        timeout_s=10,
        what="a first attempt",
    )
    attempt: dict[str, object] = page["deliveries"][0]["attempts"][0]
    return attempt


async def _deliveries(client: httpx.AsyncClient, sub_id: str) -> dict[str, list[dict[str, list[dict[str, object]]]]]:
    answer = await client.get(f"/v1/subscriptions/{sub_id}/deliveries")
    page: dict[str, list[dict[str, list[dict[str, object]]]]] = answer.json()
    return page


async def test_a_refused_connection_reads_connection_refused_and_the_address_stays_in_the_log(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = closed_port()
    async with api(sqlite_url, webhook_retry_schedule_s=[60]) as client:
        url = f"http://127.0.0.1:{port}/hook"
        sub_id = (await client.post("/v1/subscriptions", json={"url": url, "event_types": EVENTS})).json()["id"]
        with caplog.at_level(logging.WARNING, logger="services.analyzer.webhooks.dispatcher"):
            async with sessions_for(sqlite_url) as sessions:
                await alert_change(sessions)
            attempt = await first_attempt(client, sub_id)
        page = (await client.get(f"/v1/subscriptions/{sub_id}/deliveries")).text
    assert attempt["error"] == "connection refused"
    assert "127.0.0.1" not in page
    assert str(port) not in json.dumps(attempt)
    logged = [r for r in caplog.records if r.getMessage() == "webhook attempt failed"]
    assert logged, "the detail is logged"
    assert getattr(logged[0], "reason") == "connection refused"  # noqa: B009 - an extra of the record


async def test_a_receiver_that_never_answers_reads_timeout(sqlite_url: str) -> None:
    async with (
        api(sqlite_url, webhook_retry_schedule_s=[60], webhook_request_timeout_s=0.3) as client,
        running_receiver((HANG, {})) as rx,
    ):
        sub_id = (await client.post("/v1/subscriptions", json={"url": rx.url, "event_types": EVENTS})).json()["id"]
        async with sessions_for(sqlite_url) as sessions:
            await alert_change(sessions)
        attempt = await first_attempt(client, sub_id)
    assert attempt["error"] == "timeout"


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (ForbiddenTarget("10.0.0.5 is private"), "address not allowed"),
        (httpx.ConnectTimeout("resolving hooks.internal timed out"), "timeout"),
        (TimeoutError(), "timeout"),
        (
            httpx.ConnectError("could not resolve hooks.internal: [Errno -2] Name or service not known"),
            "name not resolved",
        ),
        (httpx.ConnectError("All connection attempts failed"), "connection failed"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "connection closed"),
        (httpx.LocalProtocolError("Illegal header value b'x'"), "protocol error"),
    ],
)
def test_each_failure_has_a_generic_reason_without_its_detail(exc: BaseException, reason: str) -> None:
    assert failure_reason(exc) == reason


def test_causes_decide_the_reason() -> None:
    refused = httpx.ConnectError("[Errno 111] Connect call failed ('10.1.2.3', 443)")
    refused.__cause__ = ConnectionRefusedError(111, "Connect call failed ('10.1.2.3', 443)")
    assert failure_reason(refused) == "connection refused"
    tls = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: hooks.internal")
    tls.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    assert failure_reason(tls) == "TLS error"
    unresolved = httpx.ConnectError("lookup failed")
    unresolved.__cause__ = socket.gaierror(-2, "Name or service not known")
    assert failure_reason(unresolved) == "name not resolved"


def test_answers_read_as_their_status() -> None:
    assert status_reason(204) is None
    assert status_reason(302) == "redirect not followed"
    assert status_reason(503) == "HTTP 503"
