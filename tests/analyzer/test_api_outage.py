"""The analyzer API while its database is unreachable: 503 with Retry-After, never a 500."""

from __future__ import annotations

import httpx

from deploy.kafka.broker import free_port
from services.analyzer.app import create_app
from tests.factories import ANALYZER_KEY, auth, create_analyzer_settings
from tests.harness.kafka import unique_topics


async def test_an_unreachable_database_is_a_503_with_retry_after() -> None:
    # A PostgreSQL URL on a port where nothing listens: every connection is refused.
    unreachable = f"postgresql+asyncpg://feedback:secret@127.0.0.1:{free_port()}/feedback"
    app = create_app(create_analyzer_settings("127.0.0.1:1", unique_topics(), unreachable), consume=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://analyzer", headers=auth(ANALYZER_KEY)) as c:
            for path in ("/v1/accounts", "/v1/accounts/acme", "/v1/alerts", "/v1/subscriptions"):
                response = await c.get(path)
                assert response.status_code == 503, (path, response.text)
                assert response.headers["retry-after"] == "5"
                assert response.json()["error"] == "unavailable"
            readiness = await c.get("/readyz")
    assert readiness.status_code == 503
    assert readiness.json()["detail"]["checks"]["database"] is False
