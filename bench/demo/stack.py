"""The running stack of ``make run``, seen from the demo: post events, wait for them, read back."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

BATCH_EVENTS: Final = 500  # ingest's default INGEST_MAX_BATCH_EVENTS
MAX_RETRIES: Final = 30
PROCESSED_COUNTERS: Final = ("applied", "duplicates", "dead_lettered")


class StackError(RuntimeError):
    """The stack is not up, refuses the keys, or did not keep up: the message says what to do."""


@dataclass
class Stack:
    """HTTP clients of ingest and the analyzer with their keys."""

    ingest_url: str
    analyzer_url: str
    ingest_key: str
    analyzer_key: str
    sleep: Callable[[float], None] = time.sleep
    _ingest: httpx.Client = field(init=False)
    _analyzer: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self._ingest = httpx.Client(base_url=self.ingest_url, timeout=60, headers=_bearer(self.ingest_key))
        self._analyzer = httpx.Client(base_url=self.analyzer_url, timeout=60, headers=_bearer(self.analyzer_key))

    def close(self) -> None:
        """Close both clients."""
        self._ingest.close()
        self._analyzer.close()

    def check(self) -> None:
        """Both services ready and the keys accepted; ``StackError`` saying what to do otherwise."""
        for name, client in (("ingest", self._ingest), ("analyzer", self._analyzer)):
            try:
                ready = client.get("/readyz", timeout=5)
            except httpx.HTTPError as exc:
                raise StackError(
                    f"{name} does not answer at {client.base_url} ({type(exc).__name__}): run `make run` first"
                ) from exc
            if ready.status_code != 200:
                raise StackError(
                    f"{name} at {client.base_url} is not ready ({ready.text.strip()}): run `make run` first"
                )
        if self._analyzer.get("/v1/backtest").status_code == 401:
            raise StackError("the analyzer refuses the analyzer key: pass --analyzer-key (ANALYZER_API_KEYS)")

    def processed(self) -> int:
        """Events the analyzer has taken off the topic so far (applied, skipped as repeats, dead-lettered)."""
        text = self._analyzer.get("/metrics").text
        total = 0
        for name in PROCESSED_COUNTERS:
            match = re.search(rf"^analyzer_events_{name} (\S+)$", text, re.MULTILINE)
            total += int(float(match.group(1))) if match else 0
        return total

    def post(self, events: Sequence[dict[str, Any]], *, progress: Callable[[int], None] | None = None) -> None:
        """Post in batches, waiting as ingest's ``Retry-After`` says on 429 and 503."""
        for start in range(0, len(events), BATCH_EVENTS):
            self._post_batch(events[start : start + BATCH_EVENTS])
            if progress is not None:
                progress(min(start + BATCH_EVENTS, len(events)))

    def _post_batch(self, batch: Sequence[dict[str, Any]]) -> None:
        for _ in range(MAX_RETRIES):
            answer = self._ingest.post("/v1/events/batch", json={"events": list(batch)})
            if answer.status_code == 202:
                return
            if answer.status_code == 401:
                raise StackError("ingest refuses the ingest key: pass --ingest-key (INGEST_API_KEYS)")
            if answer.status_code not in (429, 503):
                raise StackError(f"ingest answered {answer.status_code}: {answer.text[:500]}")
            # Rate limited or Kafka slow: nothing of the batch was published on 429, and a repeat of
            # what did reach Kafka on 503 has no effect (same event ids), so the batch is sent again.
            self.sleep(float(answer.headers.get("Retry-After", "1")))
        raise StackError(f"ingest kept refusing a batch after {MAX_RETRIES} tries")

    def wait_processed(self, target: int, *, timeout_s: float, progress: Callable[[int], None] | None = None) -> None:
        """Wait until ``processed()`` reaches ``target``; ``StackError`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while (done := self.processed()) < target:
            if progress is not None:
                progress(done)
            if time.monotonic() > deadline:
                raise StackError(f"the analyzer processed {done} of {target} events within {timeout_s:.0f}s")
            self.sleep(0.5)

    def account(self, account_id: str) -> dict[str, Any]:
        """``GET /v1/accounts/{id}``."""
        view: dict[str, Any] = self._json(self._analyzer.get(f"/v1/accounts/{account_id}"))
        return view

    def alerts(self, account_id: str) -> list[dict[str, Any]]:
        """Every alert of an account (``GET /v1/alerts``), oldest opening first."""
        alerts: list[dict[str, Any]] = self._json(
            self._analyzer.get("/v1/alerts", params={"account_id": account_id, "limit": 1000})
        )
        return sorted(alerts, key=lambda a: (a["opened_as_of"], a["type"]))

    def backtest(self, *, account_prefix: str, lookback_days: int) -> dict[str, Any]:
        """``GET /v1/backtest`` over the accounts of the demo, with the per-renewal detail."""
        params: dict[str, str | int] = {
            "account_prefix": account_prefix,
            "lookback_days": lookback_days,
            "detail": "true",
        }
        answer: dict[str, Any] = self._json(self._analyzer.get("/v1/backtest", params=params))
        return answer

    def portfolio(self) -> dict[str, Any]:
        """``GET /v1/portfolio``: the patterns over every account the analyzer holds (up to 1000)."""
        view: dict[str, Any] = self._json(self._analyzer.get("/v1/portfolio", params={"limit": 1000}))
        return view

    def plans(self, account_id: str) -> list[dict[str, Any]]:
        """``GET /v1/plans`` of one account, newest first."""
        plans: list[dict[str, Any]] = self._json(self._analyzer.get("/v1/plans", params={"account_id": account_id}))
        return plans

    def make_plan(self, alert_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /v1/alerts/{id}/plan``."""
        plan: dict[str, Any] = self._json(self._analyzer.post(f"/v1/alerts/{alert_id}/plan", json=body), ok=201)
        return plan

    def finish_plan(self, plan_id: str) -> dict[str, Any]:
        """``PATCH /v1/plans/{id}`` to ``done``."""
        plan: dict[str, Any] = self._json(self._analyzer.patch(f"/v1/plans/{plan_id}", json={"status": "done"}))
        return plan

    def accounts(self) -> list[dict[str, Any]]:
        """``GET /v1/accounts`` (every account, up to 1000)."""
        rows: list[dict[str, Any]] = self._json(
            self._analyzer.get("/v1/accounts", params={"order": "account_id", "limit": 1000})
        )
        return rows

    def loop(self) -> dict[str, Any]:
        """``GET /v1/loop``."""
        figures: dict[str, Any] = self._json(self._analyzer.get("/v1/loop"))
        return figures

    @staticmethod
    def _json(answer: httpx.Response, ok: int = 200) -> Any:
        if answer.status_code != ok:
            raise StackError(f"{answer.request.url.path} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
