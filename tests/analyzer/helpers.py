"""Plain helpers for analyzer tests: engines on a test database and applying events directly."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analyzer.assessment import ModelConfig
from services.analyzer.db.engine import create_engine, create_sessionmaker
from services.analyzer.model import DEFAULT_HALF_LIFE, DEFAULT_THRESHOLDS
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.requests.service import RequestConfig
from shared.events import EVENT_ADAPTER, assign_event_id, encode_event
from shared.settings import Topics


@asynccontextmanager
async def sessions_for(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A sessionmaker on ``url``; the engine is disposed afterwards."""
    engine = create_engine(url, writer=True)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


def encode(body: dict[str, Any]) -> bytes:
    """What ingest would put on Kafka for ``body`` (validated, with an event id)."""
    event = EVENT_ADAPTER.validate_python(body)
    assign_event_id(event)
    return encode_event(event)


# Test events are dated in the past; with this configuration every alert change they make is news
# (delivered to webhooks at once), as if they had happened just now. Backfill tests use the default.
EVERYTHING_IS_NEWS = ModelConfig(DEFAULT_HALF_LIFE, DEFAULT_THRESHOLDS, news_horizon=timedelta(days=36_500))


async def apply_all(
    sessions: async_sessionmaker[AsyncSession],
    bodies: Sequence[dict[str, Any] | bytes],
    *,
    topics: Topics | None = None,
    model: ModelConfig = EVERYTHING_IS_NEWS,
    trusted_link_sources: Sequence[str] = (),
    requests: RequestConfig | None = None,
) -> list[str]:
    """Apply events in one transaction, as one consumer batch would; return the outcomes.

    ``requests``: make survey requests at journey moments with these settings (None: none are made).
    """
    processor = EventProcessor(topics or Topics(), model, trusted_link_sources=trusted_link_sources, requests=requests)
    outcomes = []
    async with sessions() as session, session.begin():
        records = [
            (body if isinstance(body, bytes) else encode(body), RecordMeta("feedback.events.v1", 0, offset, b"acme"))
            for offset, body in enumerate(bodies)
        ]
        outcomes.extend(await processor.process_batch(session, records))
    return outcomes


def dumps(value: Any) -> bytes:
    """JSON bytes."""
    return json.dumps(value).encode()
