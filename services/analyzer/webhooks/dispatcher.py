"""The dispatcher: sends queued deliveries, records every attempt, retries on a schedule, disables dead endpoints.

All state is in the database, so a restart (or another analyzer process) resumes where this one stopped.
Each delivery is sent by its own task, bounded per process and per subscription, so a slow or hanging
receiver only ever holds its own slots, never event processing or other subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.db.webhook_models import Delivery, DeliveryAttempt, Subscription
from services.analyzer.settings import AnalyzerSettings
from services.analyzer.webhooks import outbox, repository
from services.analyzer.webhooks.reasons import failure_reason, status_reason
from services.analyzer.webhooks.retry import next_delay, parse_retry_after
from services.analyzer.webhooks.signing import build_headers
from services.analyzer.webhooks.ssrf import ForbiddenTarget, PinnedTransport

log = logging.getLogger(__name__)

USER_AGENT = "feedback-analyzer-webhooks/1.0"
GONE = 410


@dataclass(frozen=True, slots=True)
class Job:
    """What one attempt needs, read when the delivery was claimed."""

    delivery_id: int
    subscription_id: str
    msg_id: str
    url: str
    body: bytes
    secrets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt gave."""

    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    retry_after: str | None

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class DispatcherStats:
    """Counters for metrics and tests."""

    attempts: int = 0
    attempts_failed: int = 0  # attempts not answered with a 2xx (network error, timeout, other status)
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    disabled: int = 0


class Dispatcher:
    """Polls due deliveries, leases them, and sends each one in its own task."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: AnalyzerSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self.owner = f"dispatcher-{uuid.uuid4().hex[:12]}"
        self._rng = rng or random.Random()
        limits = httpx.Limits(max_connections=settings.webhook_endpoint_concurrency, max_keepalive_connections=2)
        self._client = httpx.AsyncClient(
            transport=transport
            or PinnedTransport(
                allow_private=settings.webhook_allow_private_targets,
                limits=limits,
                max_pools=settings.webhook_max_connection_pools,
            ),
            follow_redirects=False,
            timeout=httpx.Timeout(settings.webhook_request_timeout_s, connect=settings.webhook_connect_timeout_s),
            headers={"user-agent": USER_AGENT},
        )
        self._wake = asyncio.Event()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._per_subscription: Counter[str] = Counter()
        self.stats = DispatcherStats()

    def wake(self) -> None:
        """Look for due deliveries now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Claim and send due deliveries until cancelled."""
        outbox.add_waker(self.wake)
        try:
            while True:
                self._wake.clear()
                try:
                    await self.dispatch_due()
                except Exception:
                    # A database hiccup must not kill the loop: the deliveries stay in the table.
                    log.exception("webhook dispatch round failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._settings.webhook_poll_interval_s)
        finally:
            outbox.remove_waker(self.wake)

    async def dispatch_due(self) -> int:
        """Claim what is due and free to send, start a task per delivery; return how many started."""
        free = self._settings.webhook_max_concurrency - len(self._tasks)
        if free <= 0:
            return 0
        limit = self._settings.webhook_endpoint_concurrency
        saturated = {sub for sub, count in self._per_subscription.items() if count >= limit}
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            rows = await repository.claim_due(
                session,
                now=now,
                owner=self.owner,
                lease_until=now + timedelta(seconds=self._settings.webhook_lease_s),
                limit=free,
                exclude_subscriptions=saturated,
                # A send still running here whose lease ran out is not due again: claiming it would
                # send it twice at once (and lose track of the first task).
                exclude_deliveries=set(self._tasks),
            )
            jobs = self._admit(rows, now)
        for job in jobs:
            self._start(job)
        return len(jobs)

    def _admit(self, rows: list[tuple[Delivery, Subscription]], now: datetime) -> list[Job]:
        """Keep the claims that fit each subscription's limit; give the rest back in the same transaction."""
        jobs: list[Job] = []
        taken: Counter[str] = Counter()
        for delivery, sub in rows:
            if self._per_subscription[sub.id] + taken[sub.id] >= self._settings.webhook_endpoint_concurrency:
                delivery.lease_until, delivery.lease_owner = None, None
                continue
            taken[sub.id] += 1
            jobs.append(
                Job(
                    delivery_id=delivery.id,
                    subscription_id=sub.id,
                    msg_id=delivery.msg_id,
                    url=sub.url,
                    body=delivery.body.encode(),
                    secrets=signing_secrets(sub, now),
                ),
            )
        return jobs

    def _start(self, job: Job) -> None:
        self._per_subscription[job.subscription_id] += 1
        task = asyncio.create_task(self._deliver(job), name=f"webhook {job.msg_id}")
        self._tasks[job.delivery_id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._tasks.pop(job.delivery_id, None)
            self._per_subscription[job.subscription_id] -= 1
            if self._per_subscription[job.subscription_id] <= 0:
                del self._per_subscription[job.subscription_id]
            self.wake()  # a slot is free: a waiting delivery of this endpoint may go

        task.add_done_callback(done)

    async def _deliver(self, job: Job) -> None:
        try:
            outcome = await self.attempt(job)
            await self._record(job, outcome)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The lease expires and the delivery is tried again; nothing is lost.
            log.exception("webhook delivery crashed", extra={"msg_id": job.msg_id})

    async def attempt(self, job: Job) -> Outcome:
        """Send one signed attempt and report what happened; never raises for network or HTTP failures."""
        timestamp = int(time.time())
        headers = build_headers(job.secrets, job.msg_id, timestamp, job.body)
        attempted_at = datetime.now(UTC)
        started = time.perf_counter()
        status: int | None = None
        retry_after: str | None = None
        error: str | None = None
        try:
            # The client's timeout bounds each read; this bounds the whole exchange (a receiver trickling bytes).
            async with asyncio.timeout(self._settings.webhook_request_timeout_s):
                async with self._client.stream("POST", job.url, content=job.body, headers=headers) as response:
                    status, retry_after = response.status_code, response.headers.get("retry-after")
        except (ForbiddenTarget, TimeoutError, httpx.HTTPError) as exc:
            # The API shows a generic reason; the detail (names, addresses) stays in the log.
            error = failure_reason(exc)
            log.warning(
                "webhook attempt failed",
                extra={
                    "subscription_id": job.subscription_id,
                    "msg_id": job.msg_id,
                    "reason": error,
                    "detail": f"{type(exc).__name__}: {exc}"[:500],
                },
            )
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        if status is not None:
            error = status_reason(status)
        self.stats.attempts += 1
        outcome = Outcome(attempted_at, status, latency_ms, error, retry_after)
        if not outcome.ok:
            self.stats.attempts_failed += 1
        return outcome

    async def _record(self, job: Job, outcome: Outcome) -> None:
        """Store the attempt and decide: delivered, retry later, failed; maybe disable the subscription."""
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            delivery = await session.get(Delivery, job.delivery_id)
            sub = await session.get(Subscription, job.subscription_id)
            if delivery is None or sub is None:
                return  # deleted while in flight
            session.add(
                DeliveryAttempt(
                    delivery_id=delivery.id,
                    attempted_at=outcome.attempted_at,
                    status_code=outcome.status_code,
                    latency_ms=outcome.latency_ms,
                    error=outcome.error,
                ),
            )
            delivery.attempts += 1
            delivery.last_status_code, delivery.last_error = outcome.status_code, outcome.error
            delivery.lease_until, delivery.lease_owner = None, None
            if outcome.ok:
                self._delivered(delivery, sub, now)
            elif outcome.status_code == GONE:
                self._fail(delivery)
                self._disable(sub, now, "the endpoint answered 410 Gone")
            else:
                self._retry_or_fail(delivery, sub, outcome, now)

    def _delivered(self, delivery: Delivery, sub: Subscription, now: datetime) -> None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = repository.DELIVERED, now, None
        sub.failing_since = None
        self.stats.delivered += 1

    def _fail(self, delivery: Delivery) -> None:
        delivery.status, delivery.next_attempt_at = repository.FAILED, None
        self.stats.failed += 1

    def _retry_or_fail(self, delivery: Delivery, sub: Subscription, outcome: Outcome, now: datetime) -> None:
        settings = self._settings
        retry_after = parse_retry_after(outcome.retry_after, now=now, cap_s=settings.webhook_retry_after_max_s)
        delay = next_delay(
            delivery.schedule_step,
            settings.webhook_retry_schedule_s,
            jitter=settings.webhook_retry_jitter,
            retry_after=retry_after,
            rng=self._rng,
        )
        if delay is None:
            self._fail(delivery)
        else:
            delivery.schedule_step += 1
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            self.stats.retried += 1
        sub.failing_since = sub.failing_since or outcome.attempted_at
        failing_for = (now - sub.failing_since).total_seconds()
        if failing_for >= settings.webhook_disable_after_s:
            self._disable(
                sub, now, f"every attempt failed for {failing_for / 3600:.1f} h (last error: {outcome.error})"
            )

    def _disable(self, sub: Subscription, now: datetime, reason: str) -> None:
        if sub.status == repository.DISABLED:
            return
        sub.status, sub.disabled_reason, sub.disabled_at, sub.updated_at = repository.DISABLED, reason, now, now
        self.stats.disabled += 1
        log.warning("webhook subscription disabled", extra={"subscription_id": sub.id, "reason": reason})

    async def close(self) -> None:
        """Cancel in-flight sends, give their leases back, close the HTTP client."""
        tasks = list(self._tasks.items())
        for _, task in tasks:
            task.cancel()
        await asyncio.gather(*(task for _, task in tasks), return_exceptions=True)
        if tasks:
            with contextlib.suppress(Exception):
                async with self._sessions() as session, session.begin():
                    await repository.release_leases(session, owner=self.owner, delivery_ids=[i for i, _ in tasks])
        await self._client.aclose()


def signing_secrets(sub: Subscription, now: datetime) -> tuple[str, ...]:
    """The secrets that sign now: the current one, plus the previous one during a rotation's overlap."""
    expires = sub.previous_secret_expires_at
    if sub.previous_secret and expires is not None and expires > now:
        return (sub.secret, sub.previous_secret)
    return (sub.secret,)
