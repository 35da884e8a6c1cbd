"""``POST /v1/events`` and ``POST /v1/events/batch``: validate, then publish with acks=all."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from services.ingest.deps import authenticated_caller
from services.ingest.service import read_events
from shared.errors import ERROR_RESPONSES, ErrorBody

router = APIRouter(prefix="/v1", tags=["events"])

_RESPONSES: dict[int | str, dict[str, object]] = {
    **ERROR_RESPONSES,
    413: {"model": ErrorBody, "description": "Body over the size limit"},
    429: {"model": ErrorBody, "description": "Rate limit exceeded; see Retry-After"},
    503: {"model": ErrorBody, "description": "Kafka did not acknowledge in time; see Retry-After"},
}


class Accepted(BaseModel):
    """What a 202 returns: how many events were accepted and their ids, in request order."""

    accepted: int
    event_ids: list[str]
    event_id: str | None = None


def _body_schema(ref: str) -> dict[str, object]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}}


@lru_cache(maxsize=256)
def _client_label(client: str) -> str:
    # Rate-limit buckets are keyed by a digest, so the key itself is never held beside counters.
    # Cached: the configured keys are few, and only an authenticated key reaches this.
    return hashlib.sha256(client.encode()).hexdigest()[:16]


def _accepted(ids: list[str], *, single: bool) -> Response:
    # The body of ``Accepted``, encoded directly: the route's response_model documents it, and
    # returning a Response spares FastAPI validating and re-encoding what was just built here.
    body: dict[str, object] = {"accepted": len(ids), "event_ids": ids}
    if single:
        body["event_id"] = ids[0]
    return Response(json.dumps(body), status_code=status.HTTP_202_ACCEPTED, media_type="application/json")


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    response_model_exclude_none=True,
    responses=_RESPONSES,
    openapi_extra=_body_schema("#/components/schemas/Event"),
    summary="Publish one event",
)
async def post_event(request: Request) -> Response:
    """Validate one event and answer 202 once Kafka has it (acks=all)."""
    caller = await authenticated_caller(request)  # called, not injected: see services/ingest/deps.py
    ingest = caller.ingest
    events = read_events(await request.body(), policy=ingest.settings.time_policy)
    ingest.charge(_client_label(caller.key), 1)
    ids = await ingest.publisher.publish(events, source="api")
    return _accepted(ids, single=True)


@router.post(
    "/events/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    response_model_exclude_none=True,
    responses=_RESPONSES,
    openapi_extra=_body_schema("#/components/schemas/EventBatch"),
    summary="Publish a batch of events",
)
async def post_batch(request: Request) -> Response:
    """Validate every event first (one bad event refuses the whole batch), then publish them all."""
    caller = await authenticated_caller(request)
    ingest, settings = caller.ingest, caller.ingest.settings
    body = await request.body()
    events = read_events(body, policy=settings.time_policy, max_batch=settings.ingest_max_batch_events)
    ingest.charge(_client_label(caller.key), len(events))
    ids = await ingest.publisher.publish(events, source="api")
    return _accepted(ids, single=False)
