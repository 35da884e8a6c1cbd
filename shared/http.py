"""HTTP pieces both services mount: the body-size limit, health routes and Prometheus metrics."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Sequence

from fastapi import APIRouter, FastAPI, Response, params
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import ErrorBody, error_response


class BodyTooLarge(Exception):
    """Raised inside ``receive`` when a streamed body passes the limit."""


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with 413 before any route parses them.

    A declared ``Content-Length`` over the limit is refused at once; a chunked body is counted as
    it streams and refused as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"request body exceeds the limit of {self.max_bytes} bytes",
        )
        await response(scope, receive, send)


class HttpMetrics:
    """Request counters and latency histograms, labelled by route template (not raw path)."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.registry = registry
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route and status",
            ["service", "method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            ["service", "method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.service = service

    def install(self, app: FastAPI, *, expose: bool = True, dependencies: Sequence[params.Depends] = ()) -> None:
        """Time every request and, with ``expose``, serve ``GET /metrics`` behind ``dependencies`` (e.g. a key)."""
        app.add_middleware(_MeasureRequests, metrics=self)
        if not expose:
            return

        @app.get("/metrics", include_in_schema=False, dependencies=list(dependencies))
        async def metrics() -> Response:
            return Response(generate_latest(self.scrape_registry()), media_type=CONTENT_TYPE_LATEST)

    def scrape_registry(self) -> CollectorRegistry:
        """What ``/metrics`` exposes: this process's registry, or every worker's when there are several.

        With ``PROMETHEUS_MULTIPROC_DIR`` set (ingest sets it before starting several workers), each
        worker writes its counters to files there and any worker answering a scrape sums them all.
        """
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not directory:
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        return registry


class _MeasureRequests:
    """Pure ASGI middleware (no task group around the app, unlike ``BaseHTTPMiddleware``)."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            # The router writes the matched route into the shared scope; label by its template so
            # ids in paths do not explode the metric's cardinality.
            route = str(getattr(scope.get("route"), "path", "unmatched"))
            m = self.metrics
            m.latency.labels(m.service, scope["method"], route).observe(time.perf_counter() - started)
            m.requests.labels(m.service, scope["method"], route, str(status)).inc()


def health_router(ready: Callable[[], Awaitable[dict[str, bool]]]) -> APIRouter:
    """``/healthz`` (process up) and ``/readyz`` (every dependency check passes, else 503)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Dependencies reachable",
        responses={503: {"model": ErrorBody, "description": "A dependency is unreachable"}},
    )
    async def readyz() -> Response:
        checks = await ready()
        if all(checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return error_response(503, "not_ready", {"checks": checks}, {"Retry-After": "5"})

    return router
