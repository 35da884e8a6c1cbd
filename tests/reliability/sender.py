"""A client of ingest that does what docs/architecture.md asks of one: resend the same body until a 2xx.

It keeps the books of the client side: every event id ingest acknowledged (a ``202`` names them), and
how many answers were ``503`` (Kafka did not acknowledge in time) or never came (a client timeout).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.factories import INGEST_KEY, auth, create_survey


@dataclass
class Sender:
    """Posts batches to ``/v1/events/batch``; a batch is resent as is until ingest answers 202."""

    base_url: str
    timeout_s: float = 30.0
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)
    unavailable: int = 0  # 503 answers
    no_answer: int = 0  # client timeouts and refused connections, resent the same way
    refused: list[str] = field(default_factory=list)  # anything else: a failure of the test

    async def send(self, client: httpx.AsyncClient, events: list[dict[str, Any]], *, give_up_s: float = 120.0) -> None:
        """Post one batch until it is accepted (each event carries its own ``event_id``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + give_up_s
        while True:
            try:
                response = await client.post("/v1/events/batch", json={"events": events})
            except (httpx.TimeoutException, httpx.TransportError):
                self.no_answer += 1
            else:
                if response.status_code == 202:
                    ids = response.json()["event_ids"]
                    assert ids == [e["event_id"] for e in events], "ingest must keep the client's ids, in order"
                    self.acknowledged.update(zip(ids, events, strict=True))
                    return
                if response.status_code != 503:
                    self.refused.append(f"{response.status_code}: {response.text[:200]}")
                    return
                self.unavailable += 1
            if loop.time() > deadline:
                raise AssertionError(f"ingest did not accept a batch within {give_up_s}s")
            # The back-off of a polite client between resends, not a wait for a condition.
            await asyncio.sleep(0.2)

    def client(self) -> httpx.AsyncClient:
        """An HTTP client for ``send``."""
        return httpx.AsyncClient(base_url=self.base_url, headers=auth(INGEST_KEY), timeout=self.timeout_s)

    async def send_all(self, events: list[dict[str, Any]], *, batch: int = 100) -> None:
        """Post ``events`` in batches, one after the other."""
        async with self.client() as client:
            for start in range(0, len(events), batch):
                await self.send(client, events[start : start + batch])


def answers(count: int, *, first: int = 0, prefix: str = "ev", accounts: int = 8) -> list[dict[str, Any]]:
    """``count`` distinct survey answers with ids of their own, spread over accounts and people."""
    return [
        create_survey(
            event_id=f"{prefix}-{n}",
            account_id=f"acct-{n % accounts}",
            stakeholder_id=f"person-{n % (accounts * 3)}@example.com",
            score=n % 11,
            occurred_at=f"2026-05-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
        )
        for n in range(first, first + count)
    ]


async def stream_until(sender: Sender, stop: asyncio.Event, *, batch: int = 5, prefix: str = "ev") -> None:
    """A steady stream: batch after batch of new answers until ``stop`` is set (the batch in hand finishes)."""
    sent = 0
    async with sender.client() as client:
        while not stop.is_set():
            await sender.send(client, answers(batch, first=sent, prefix=prefix))
            sent += batch
