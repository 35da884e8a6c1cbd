"""The analyzer application: its API plus, in the same process, the consumer and the outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Gauge, ProcessCollector
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer import dashboard
from services.analyzer.accounts import endpoints as account_endpoints
from services.analyzer.alerts import counts as alert_counts
from services.analyzer.alerts import endpoints as alert_endpoints
from services.analyzer.assessment import Assessor, ModelConfig
from services.analyzer.backtest import endpoints as backtest_endpoints
from services.analyzer.clock_sweep import sweep_forever
from services.analyzer.consumer import EventConsumer
from services.analyzer.db.engine import create_engine, create_sessionmaker
from services.analyzer.db.errors import is_outage
from services.analyzer.deps import require_scope
from services.analyzer.keyring import KeyRing, KeysUnavailable
from services.analyzer.keys import READ
from services.analyzer.lag import LagCollector, LagMonitor
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, RiskModel
from services.analyzer.outbox.relay import OutboxRelay
from services.analyzer.people import endpoints as people_endpoints
from services.analyzer.people import topic as erasures_topic
from services.analyzer.plans import endpoints as plan_endpoints
from services.analyzer.plans import loop_endpoints
from services.analyzer.portfolio import endpoints as portfolio_endpoints
from services.analyzer.processing import EventProcessor
from services.analyzer.repository import risk_models
from services.analyzer.requests import endpoints as request_endpoints
from services.analyzer.requests.choosing import Policy
from services.analyzer.requests.service import RequestConfig
from services.analyzer.retention import prune_forever
from services.analyzer.settings import AnalyzerSettings
from services.analyzer.verbatims import endpoints as verbatim_endpoints
from services.analyzer.webhooks import endpoints as subscription_endpoints
from services.analyzer.webhooks.dispatcher import Dispatcher
from shared.authguard import AuthGuard
from shared.errors import error_response, install_error_handlers
from shared.http import BodySizeLimit, HttpMetrics, health_router
from shared.kafka import DurablePublisher, ensure_topics
from shared.proxies import ForwardedClient
from shared.ratelimit import RateLimiter

log = logging.getLogger(__name__)


def create_app(settings: AnalyzerSettings | None = None, *, consume: bool = True) -> FastAPI:
    """Build the analyzer; with ``consume=False`` only the API runs (tests of the API alone)."""
    settings = settings or AnalyzerSettings()
    registry = CollectorRegistry()
    # process_start_time_seconds and friends: how an operator counts restarts (docs/operations.md).
    ProcessCollector(registry=registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        api_engine = create_engine(settings.database_url)
        writer_engine = create_engine(settings.database_url, writer=True)
        app.state.sessions = create_sessionmaker(api_engine)
        writer_sessions = create_sessionmaker(writer_engine)
        kafka = DurablePublisher(settings, client_id="analyzer")
        relay = OutboxRelay(
            writer_sessions,
            kafka,
            timeout_s=settings.analyzer_publish_timeout_s,
            grace=timedelta(seconds=settings.analyzer_outbox_grace_s),
        )
        risk = await _risk_model(app.state.sessions, wait=False)
        config = model_config(settings, risk or DEFAULT_RISK_MODEL)
        app.state.assessor = Assessor(config, settings.topics)
        # The data keys of sealed personal data; the erasure deletes a person's keys through it
        # (``app.state.keyring.shred_subjects``). It reads the keys topic when first needed if Kafka
        # is away now.
        keyring = app.state.keyring = KeyRing(settings, kafka)
        processor = EventProcessor(
            settings.topics,
            config,
            time_policy=settings.time_policy,
            trusted_link_sources=settings.trust_link_parameters,
            keyring=keyring,
            requests=request_config(settings),
            dedup_window=timedelta(seconds=settings.analyzer_dedup_window_s),
        )

        async def consuming() -> None:
            try:
                await keyring.start()
            except KeysUnavailable as exc:
                log.warning(
                    "key ring not started; it reads the keys topic when next needed", extra={"reason": str(exc)}
                )
            if risk is None:
                # The database was away at start: nothing is evaluated before the fit in use is known.
                loaded = model_config(settings, await _risk_model(app.state.sessions, wait=True) or DEFAULT_RISK_MODEL)
                processor.assessor.config = app.state.assessor.config = loaded
            # A restored or rebuilt database may lack erasures the topic holds: apply them before any record.
            await erasures_topic.catch_up_until_done(settings, writer_sessions, processor.assessor)
            await consumer.run()

        consumer = EventConsumer(settings, writer_sessions, processor, after_commit=relay.publish)
        app.state.kafka, app.state.consumer, app.state.relay = kafka, consumer, relay
        lag = LagMonitor(lambda: consumer.kafka_consumer, interval_s=settings.analyzer_lag_interval_s)
        _register_consumer_metrics(registry, consumer, lag)
        tasks: list[asyncio.Task[None]] = []
        if consume:
            if settings.kafka_create_topics:
                with contextlib.suppress(Exception):
                    await ensure_topics(settings, settings.topics.all(), timeout_s=settings.kafka_request_timeout_s)
            tasks = [
                _supervised(consuming(), "consumer"),
                _supervised(relay.sweep_forever(settings.analyzer_outbox_sweep_s), "outbox sweep"),
                _supervised(lag.run(), "lag monitor"),
                _supervised(
                    prune_forever(
                        writer_sessions,
                        interval_s=settings.analyzer_prune_interval_s,
                        outbox_retention=timedelta(seconds=settings.analyzer_outbox_retention_s),
                        delivery_retention=timedelta(seconds=settings.webhook_delivery_retention_s),
                        dedup_window=timedelta(seconds=settings.analyzer_dedup_window_s),
                    ),
                    "pruning",
                ),
            ]
            if settings.analyzer_sweep_interval_s > 0:
                sweeping = sweep_forever(
                    writer_sessions,
                    processor.assessor,
                    interval_s=settings.analyzer_sweep_interval_s,
                    after_commit=relay.publish,
                    owns=consumer.owner_of_accounts,
                    requests=request_config(settings),
                )
                tasks.append(_supervised(sweeping, "wall-clock sweep"))
        # Webhook deliveries also come from the API (acknowledge/resolve), so the dispatcher runs without `consume`.
        app.state.writer_sessions = writer_sessions  # API calls that write (SQLite: the lock is taken at BEGIN)
        dispatcher = app.state.dispatcher = Dispatcher(writer_sessions, settings)
        _register_dispatcher_metrics(registry, dispatcher)
        if settings.webhook_dispatcher_enabled:
            tasks.append(_supervised(dispatcher.run(), "webhook dispatcher"))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await dispatcher.close()
            await keyring.close()
            await kafka.close()
            await api_engine.dispose()
            await writer_engine.dispose()

    docs_open = settings.docs_access == "open"
    app = FastAPI(
        title="Feedback analyzer",
        version="1.0.0",
        summary="Stakeholder positions, divergence and alerts per B2B account.",
        lifespan=lifespan,
        openapi_url="/openapi.json" if docs_open else None,
        docs_url="/docs" if docs_open else None,
        redoc_url="/redoc" if docs_open else None,
    )
    app.state.settings = settings
    app.state.assessor = Assessor(model_config(settings), settings.topics)
    app.state.request_config = request_config(settings)
    install_error_handlers(app)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(OSError, _on_database_error)
    app.add_middleware(BodySizeLimit, max_bytes=1_048_576)
    # Every route sees the client that a trusted proxy (the compose gateway, an ingress) names.
    app.add_middleware(ForwardedClient, trusted=settings.analyzer_trusted_proxies)
    read_key = [Depends(require_scope(READ))]
    HttpMetrics(registry, "analyzer").install(
        app, expose=settings.metrics_access != "off", dependencies=read_key if settings.metrics_access == "key" else []
    )
    if settings.docs_access == "key":
        # A browser cannot send the key to /docs, so only the document itself is served, to callers with one.
        @app.get("/openapi.json", include_in_schema=False, dependencies=read_key)
        async def openapi() -> JSONResponse:
            return JSONResponse(app.openapi())

    app.state.auth_guard = AuthGuard(
        RateLimiter(
            rate_per_s=settings.analyzer_auth_failures_per_min / 60, burst=settings.analyzer_auth_failure_burst
        ),
        Counter(
            "analyzer_auth_failures_total",
            "Requests (API calls, dashboard sign-ins) that failed authentication (refused) or came while "
            "their address or key had no failures left (limited: 429)",
            ["outcome"],
            registry=registry,
        ),
    )

    async def ready() -> dict[str, bool]:
        checks = {"database": await _database_ok(app), "kafka": await app.state.kafka.probe()}
        if consume:
            checks["consumer"] = app.state.consumer.connected
        return checks

    app.include_router(health_router(ready))
    app.include_router(account_endpoints.router)
    app.include_router(verbatim_endpoints.router)
    app.include_router(alert_endpoints.router)
    app.include_router(subscription_endpoints.router)
    app.include_router(backtest_endpoints.router)
    app.include_router(people_endpoints.router)
    app.include_router(request_endpoints.router)
    app.include_router(plan_endpoints.router)
    app.include_router(loop_endpoints.router)
    app.include_router(portfolio_endpoints.router)
    dashboard.install(app, settings)
    return app


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """503 with ``Retry-After`` while the database is unreachable; any other database error is a bug (500)."""
    if is_outage(exc):
        log.warning(
            "database unavailable; answered 503",
            extra={"path": request.url.path, "reason": f"{type(exc).__name__}: {str(exc)[:300]}"},
        )
        return error_response(503, "unavailable", "the database is unavailable; retry later", {"Retry-After": "5"})
    log.error("unhandled error", extra={"path": request.url.path}, exc_info=exc)
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")


def request_config(settings: AnalyzerSettings) -> RequestConfig | None:
    """The survey-request settings, or None when ``SURVEY_REQUESTS_ENABLED`` is false."""
    if not settings.survey_requests_enabled:
        return None
    return RequestConfig(
        policy=Policy(
            min_interval=timedelta(seconds=settings.survey_request_min_interval_s),
            weekly_cap=settings.survey_request_weekly_cap,
            silent_after=timedelta(seconds=settings.survey_request_silent_after_s),
            role_max_se=settings.survey_request_role_max_se,
            min_role_confidence=settings.thresholds.min_role_confidence,
        ),
        expiry=timedelta(seconds=settings.survey_request_expiry_s),
        cadence=timedelta(seconds=settings.survey_request_cadence_s) if settings.survey_request_cadence_s > 0 else None,
    )


def model_config(settings: AnalyzerSettings, risk: RiskModel = DEFAULT_RISK_MODEL) -> ModelConfig:
    """The model's half-life, thresholds and news horizon from the settings, and the risk model in use."""
    return ModelConfig(
        timedelta(days=settings.model_half_life_days),
        settings.thresholds,
        timedelta(seconds=settings.alert_news_horizon_s),
        risk,
    )


async def _risk_model(sessions: async_sessionmaker[AsyncSession], *, wait: bool) -> RiskModel | None:
    """The stored fit in use (``feedback risk fit``), else the defaults; read at start.

    While the database is unreachable: None at once (``wait=False``), or retried until it answers.
    It never falls back to the defaults because the database is away, only when it has no fit.
    """
    delay = 0.5
    while True:
        try:
            async with sessions() as session:
                row = await risk_models.active(session)
        except Exception as exc:
            if _no_schema(exc):
                return DEFAULT_RISK_MODEL  # migrations not applied yet: no fit can have been stored
            if not is_outage(exc):
                raise
            if not wait:
                return None
            log.warning("database unreachable; reading the risk model when it answers", extra={"retry_in_s": delay})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
            continue
        return DEFAULT_RISK_MODEL if row is None else risk_models.to_model(row)


def _no_schema(exc: BaseException) -> bool:
    # SQLite: "no such table"; PostgreSQL: relation "risk_models" does not exist.
    text_of = str(exc)
    return isinstance(exc, DBAPIError) and ("no such table" in text_of or "does not exist" in text_of)


async def _database_ok(app: FastAPI) -> bool:
    try:
        async with app.state.sessions() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), 2)
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False
    return True


def _supervised(coro: object, name: str) -> asyncio.Task[None]:
    """Run a background loop; if it dies, stop the process so its supervisor restarts it cleanly."""

    async def guard() -> None:
        try:
            await coro  # type: ignore[misc]
        except asyncio.CancelledError:
            raise
        except BaseException:
            log.critical("background task died; stopping the process", extra={"task": name}, exc_info=True)
            os.kill(os.getpid(), signal.SIGTERM)

    return asyncio.create_task(guard(), name=name)


def _register_consumer_metrics(registry: CollectorRegistry, consumer: EventConsumer, lag: LagMonitor) -> None:
    gauges: Sequence[tuple[str, str]] = (
        ("batches", "Batches committed"),
        ("applied", "Events applied"),
        ("duplicates", "Events skipped as already processed"),
        ("dead_lettered", "Events sent to the dead-letter topic"),
        ("shredded", "Sealed events not applied because their data key was shredded (erased people)"),
        ("retries", "Batch transactions retried"),
        ("restarts", "Consumer loops restarted after an error outside any one record"),
        ("unprocessable", "Records skipped because not even their dead letter could be written"),
    )
    for attr, doc in gauges:
        gauge = Gauge(f"analyzer_events_{attr}", doc, registry=registry)
        gauge.set_function(partial(_stat, consumer.stats, attr))
    connected = Gauge("analyzer_consumer_connected", "1 while the Kafka consumer is started", registry=registry)
    connected.set_function(lambda: float(consumer.connected))
    waiting = Gauge(
        "analyzer_consumer_waiting_for_database",
        "1 while the consumer waits out a database outage (its batch is retried until the database answers)",
        registry=registry,
    )
    waiting.set_function(lambda: float(consumer.stats.waiting_for == "database"))
    registry.register(LagCollector(lag))
    changes = Gauge(
        "analyzer_alert_changes",
        "Alert changes published: news (delivered), history (older than ALERT_NEWS_HORIZON_S), backfilled",
        ["kind"],
        registry=registry,
    )
    for kind in alert_counts.KINDS:
        changes.labels(kind).set_function(partial(alert_counts.TOTALS.__getitem__, kind))


def _register_dispatcher_metrics(registry: CollectorRegistry, dispatcher: Dispatcher) -> None:
    gauges: Sequence[tuple[str, str, str]] = (
        ("attempts", "attempts", "Webhook delivery attempts made"),
        ("attempts_failed", "attempts_failed", "Webhook delivery attempts without a 2xx (error, timeout, other)"),
        ("delivered", "delivered", "Webhook deliveries answered with a 2xx"),
        ("retries_scheduled", "retried", "Failed webhook deliveries given another attempt later"),
        ("given_up", "failed", "Webhook deliveries given up: retry schedule exhausted, or 410 Gone"),
        ("subscriptions_disabled", "disabled", "Webhook subscriptions disabled after failing for too long"),
    )
    for name, attr, doc in gauges:
        gauge = Gauge(f"analyzer_webhook_{name}", doc, registry=registry)
        gauge.set_function(partial(_stat, dispatcher.stats, attr))


def _stat(stats: object, attr: str) -> float:
    return float(getattr(stats, attr))
