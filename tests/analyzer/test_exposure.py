"""Who may read /metrics and the OpenAPI document: a key with the read scope in production, else as configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from services.analyzer.app import create_app
from tests.factories import auth, create_analyzer_settings
from tests.harness.kafka import unique_topics

KEYS = ["scraper:scraper-secret-0123456789:read", "hooks:hooks-secret-0123456789:subscriptions:admin"]
DOC_PATHS = ("/openapi.json", "/docs", "/redoc")


@asynccontextmanager
async def analyzer(sqlite_url: str, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    values: dict[str, Any] = {"analyzer_api_keys": KEYS, **settings}
    app = create_app(create_analyzer_settings("127.0.0.1:1", unique_topics(), sqlite_url, **values), consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analyzer") as client:
            yield client


async def test_in_production_metrics_need_a_read_key_and_the_openapi_pages_are_off(sqlite_url: str) -> None:
    async with analyzer(sqlite_url, environment="production") as client:
        assert (await client.get("/metrics")).status_code == 401
        lacking = await client.get("/metrics", headers=auth("hooks-secret-0123456789"))
        assert lacking.status_code == 403
        assert "'read'" in lacking.json()["detail"]
        scraped = await client.get("/metrics", headers=auth("scraper-secret-0123456789"))
        assert scraped.status_code == 200
        assert "http_requests_total" in scraped.text
        for path in DOC_PATHS:
            assert (await client.get(path)).status_code == 404, path
            assert (await client.get(path, headers=auth("scraper-secret-0123456789"))).status_code == 404, path
        assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize("environment", ["development", "test"])
async def test_outside_production_both_stay_open_by_default(sqlite_url: str, environment: str) -> None:
    async with analyzer(sqlite_url, environment=environment) as client:
        assert (await client.get("/metrics")).status_code == 200
        for path in DOC_PATHS:
            assert (await client.get(path)).status_code == 200, path


async def test_each_can_be_set_open_key_or_off(sqlite_url: str) -> None:
    settings = {"environment": "production", "analyzer_metrics_access": "off", "analyzer_docs_access": "key"}
    async with analyzer(sqlite_url, **settings) as client:
        assert (await client.get("/metrics", headers=auth("scraper-secret-0123456789"))).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 401
        assert (await client.get("/openapi.json", headers=auth("hooks-secret-0123456789"))).status_code == 403
        document = await client.get("/openapi.json", headers=auth("scraper-secret-0123456789"))
        assert document.status_code == 200
        assert "/v1/accounts" in document.json()["paths"]
        assert (await client.get("/docs")).status_code == 404
    settings = {"environment": "production", "analyzer_metrics_access": "open", "analyzer_docs_access": "open"}
    async with analyzer(sqlite_url, **settings) as client:
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200
