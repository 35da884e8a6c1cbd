"""Bounds of outbound webhooks: a cap on subscriptions, and on the dispatcher's per-origin connection pools."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from services.analyzer.webhooks.ssrf import PinnedTransport
from tests.analyzer.webhooks.test_delivery_reasons import closed_port
from tests.analyzer.webhooks.test_webhook_api import EVENTS, api
from tests.analyzer.webhooks.test_webhook_pinned_transport import Receiver, create_client, run_receiver
from tests.harness.waiting import wait_until


async def test_creating_past_the_cap_is_refused_with_409_until_one_is_deleted(database_url: str) -> None:
    async with api(database_url, webhook_max_subscriptions=2) as client:
        made = []
        for n in range(2):
            answer = await client.post(
                "/v1/subscriptions", json={"url": f"https://crm{n}.example.com/", "event_types": EVENTS}
            )
            assert answer.status_code == 201, answer.text
            made.append(answer.json()["id"])
        refused = await client.post(
            "/v1/subscriptions", json={"url": "https://crm9.example.com/", "event_types": EVENTS}
        )
        assert refused.status_code == 409
        assert refused.json() == {
            "error": "conflict",
            "detail": "the analyzer already has 2 subscriptions, the most WEBHOOK_MAX_SUBSCRIPTIONS allows (2); "
            "delete one first",
        }
        assert len((await client.get("/v1/subscriptions")).json()) == 2
        assert (await client.delete(f"/v1/subscriptions/{made[0]}")).status_code == 204
        again = await client.post("/v1/subscriptions", json={"url": "https://crm9.example.com/", "event_types": EVENTS})
        assert again.status_code == 201


def origin(receiver: Receiver) -> tuple[str, str, int]:
    return ("http", "127.0.0.1", receiver.port)


def closed(receiver: Receiver, n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return receiver.closed >= n

    return check


async def test_past_the_cap_the_least_recently_used_pool_is_closed() -> None:
    transport = PinnedTransport(allow_private=True, max_pools=2)
    async with (
        run_receiver("127.0.0.1") as a,
        run_receiver("127.0.0.1") as b,
        run_receiver("127.0.0.1") as c,
        create_client(transport) as client,
    ):
        for receiver in (a, b, a, c):
            assert (await client.post(f"http://127.0.0.1:{receiver.port}/", content=b"{}")).status_code == 204
        assert transport.origins == [origin(a), origin(c)]
        # B's kept-alive connection was closed with its pool; A's and C's stay open.
        await wait_until(closed(b, 1), timeout_s=5, what="B's connection to close")
        assert (a.closed, c.closed) == (0, 0)
        assert (a.connections, b.connections, c.connections) == (1, 1, 1)


async def test_a_pool_with_a_response_open_is_not_closed_until_the_response_is() -> None:
    transport = PinnedTransport(allow_private=True, max_pools=1)
    async with (
        run_receiver("127.0.0.1") as a,
        run_receiver("127.0.0.1") as b,
        run_receiver("127.0.0.1") as c,
        create_client(transport) as client,
    ):
        async with client.stream("POST", f"http://127.0.0.1:{a.port}/", content=b"{}") as open_response:
            assert (await client.post(f"http://127.0.0.1:{b.port}/", content=b"{}")).status_code == 204
            assert transport.origins == [origin(a), origin(b)]  # A is busy: over the cap for now
            assert open_response.status_code == 204
        assert (await client.post(f"http://127.0.0.1:{c.port}/", content=b"{}")).status_code == 204
        assert transport.origins == [origin(c)]
        await wait_until(closed(a, 1), timeout_s=5, what="A's connection to close")


async def test_a_pool_that_raised_is_not_counted_as_busy() -> None:
    transport = PinnedTransport(allow_private=True, max_pools=1)
    async with run_receiver("127.0.0.1") as a, create_client(transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post(f"http://127.0.0.1:{closed_port()}/", content=b"{}")
        assert (await client.post(f"http://127.0.0.1:{a.port}/", content=b"{}")).status_code == 204
        assert transport.origins == [origin(a)]
