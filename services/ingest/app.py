"""The ingest application: ``create_app()`` wires settings, the Kafka publisher and the routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry, Counter

from services.ingest.api import events, webhooks
from services.ingest.deps import Ingest
from services.ingest.service import EventPublisher
from services.ingest.settings import IngestSettings
from services.ingest.vendors import LinkPolicy, build_adapters
from shared.authguard import AuthGuard
from shared.errors import install_error_handlers
from shared.events import EVENT_ADAPTER
from shared.http import BodySizeLimit, HttpMetrics, health_router
from shared.kafka import DurablePublisher, ensure_topics
from shared.proxies import ForwardedClient
from shared.ratelimit import Limiter, RateLimiter, SharedRateLimiter

log = logging.getLogger(__name__)


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    """Build the ingest app; nothing connects until the lifespan starts."""
    settings = settings or IngestSettings()
    kafka = DurablePublisher(settings, client_id="ingest")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.kafka_create_topics:
            try:
                await ensure_topics(settings, settings.topics.all(), timeout_s=settings.kafka_request_timeout_s)
            except Exception:
                log.warning("could not ensure kafka topics at start-up", exc_info=True)
        yield
        await kafka.close()

    app = FastAPI(
        title="Feedback ingest",
        version="1.0.0",
        summary="Receives survey answers, vendor CSAT webhooks and journey moments; publishes them to Kafka.",
        lifespan=lifespan,
    )
    app.state.kafka = kafka
    registry = CollectorRegistry()
    auth_outcomes = Counter(
        "ingest_auth_failures_total",
        "Requests that failed authentication (refused: 401) or came while their address or key had "
        "no failures left (limited: 429)",
        ["outcome"],
        registry=registry,
    )
    app.state.ingest = Ingest(
        settings=settings,
        publisher=EventPublisher(
            kafka,
            settings.topics,
            timeout_s=settings.ingest_publish_timeout_s,
            kek=settings.personal_data_kek,
            key_rotation_s=settings.personal_data_key_rotation_s,
        ),
        limiter=_rate_limiter(
            settings, "rate-limits", settings.ingest_rate_limit_per_s, settings.ingest_rate_limit_burst
        ),
        guard=AuthGuard(
            _rate_limiter(
                settings,
                "auth-failures",
                settings.ingest_auth_failures_per_min / 60,
                settings.ingest_auth_failure_burst,
            ),
            auth_outcomes,
        ),
    )
    app.state.vendor_adapters = build_adapters(
        zendesk_max_skew=timedelta(seconds=settings.webhook_timestamp_tolerance_s),
        delighted_account_property=settings.delighted_account_property,
        links=LinkPolicy(secret=settings.link_secret()),
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.ingest_max_body_bytes)
    # Every route sees the client that a trusted proxy names, not the proxy.
    app.add_middleware(ForwardedClient, trusted=settings.ingest_trusted_proxies)
    HttpMetrics(registry, "ingest").install(app)
    app.state.vendor_metrics = Counter(
        "ingest_vendor_deliveries_total",
        "Vendor webhook deliveries by outcome (published counts events)",
        ["source", "outcome"],
        registry=registry,
    )

    async def ready() -> dict[str, bool]:
        return {"kafka": await kafka.probe()}

    for router in (health_router(ready), events.router, webhooks.router):
        _add_routes(app, router)
    _document_event_schemas(app, max_batch=settings.ingest_max_batch_events)
    return app


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Put a router's routes on the app itself.

    The routers here carry nothing to apply at inclusion (their prefixes and tags are already in
    their routes). ``include_router`` (FastAPI 0.163) keeps each as a lazily resolved branch whose
    version is recomputed over its routes on every request: a tenth of a single-event request in
    the profile (docs/benchmarks.md).
    """
    app.router.routes.extend(router.routes)


def _rate_limiter(settings: IngestSettings, name: str, rate_per_s: float, burst: int) -> Limiter:
    """In-process buckets, or a table shared by the workers when there is a state directory."""
    if settings.ingest_state_dir is None:
        return RateLimiter(rate_per_s=rate_per_s, burst=burst)
    return SharedRateLimiter(settings.ingest_state_dir / name, rate_per_s=rate_per_s, burst=burst)


def _document_event_schemas(app: FastAPI, *, max_batch: int) -> None:
    """Put the event schemas into the OpenAPI components (the routes parse bodies themselves)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        defs = EVENT_ADAPTER.json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(defs.pop("$defs", {}))
        components["Event"] = defs
        components["EventBatch"] = {
            "type": "object",
            "required": ["events"],
            "properties": {
                "events": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": max_batch,
                    "items": {"$ref": "#/components/schemas/Event"},
                },
            },
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
