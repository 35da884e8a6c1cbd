"""``POST /v1/webhooks/{source}``: native vendor webhooks, verified by the vendor's own signature."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from services.ingest.deps import IngestDep, client_address
from services.ingest.service import check_times
from services.ingest.vendors import PayloadError, SignatureError, VendorAdapter
from shared.errors import ErrorBody, InvalidRequest, NotFound, Unauthorized

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/webhooks", tags=["vendor webhooks"])


class WebhookAccepted(BaseModel):
    """What a vendor delivery is answered with (vendors only look at the status code)."""

    accepted: int
    event_ids: list[str]
    ignored_reason: str | None = None
    # Why the respondent is unverified (a survey link without a valid link token): accepted, never counted
    # in positions (docs/security.md, "Who may answer as whom").
    unverified_reason: str | None = None


@router.post(
    "/{source}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookAccepted,
    response_model_exclude_none=True,
    responses={
        200: {"model": WebhookAccepted, "description": "Acknowledged, but the delivery held no usable score"},
        401: {"model": ErrorBody, "description": "Bad or missing signature, or a stale signed timestamp"},
        404: {"model": ErrorBody, "description": "Unknown source, or no WEBHOOK_SECRET_<SOURCE> configured"},
        413: {"model": ErrorBody, "description": "Body over the size limit"},
        422: {"model": ErrorBody, "description": "Not the vendor's documented payload"},
        429: {"model": ErrorBody, "description": "Rate limit exceeded; see Retry-After"},
        503: {"model": ErrorBody, "description": "Kafka did not acknowledge in time; see Retry-After"},
    },
    summary="Receive a vendor's CSAT/NPS webhook",
    # The route reads the raw bytes itself (the signature is over them); documented here as what
    # every vendor sends, a JSON object in the vendor's own layout (docs/vendors/).
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "description": "The vendor's payload"}}},
        }
    },
)
async def receive(
    source: str,
    request: Request,
    response: Response,
    ingest: IngestDep,
) -> WebhookAccepted:
    """Verify the vendor's signature, map the payload onto ``survey_response`` events, publish them."""
    settings = ingest.settings
    secret = settings.vendor_secret(source)
    adapters: dict[str, VendorAdapter] = request.app.state.vendor_adapters
    adapter = adapters.get(source)
    if secret is None or adapter is None:
        # The same answer for "unknown" and "not configured": probing reveals nothing.
        raise NotFound(f"no webhook endpoint for {source!r}")
    address = client_address(request)
    ingest.guard.refuse_if_exhausted(address, None)
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        adapter.verify(headers, body, secret.get_secret_value(), datetime.now(UTC))
    except SignatureError as exc:
        ingest.guard.failed(address, None)
        request.app.state.vendor_metrics.labels(source, "bad_signature").inc()
        log.warning("vendor webhook refused", extra={"source": source, "reason": exc.reason})
        raise Unauthorized(exc.reason) from exc
    try:
        result = adapter.parse(body, headers)
    except PayloadError as exc:
        request.app.state.vendor_metrics.labels(source, "invalid_payload").inc()
        raise InvalidRequest([{"index": None, "field": "", "message": exc.reason, "type": "vendor_payload"}]) from exc
    if not result.events:
        # Acknowledged so the vendor stops retrying; counted and logged, never published as a score.
        request.app.state.vendor_metrics.labels(source, "no_score").inc()
        log.info("vendor webhook without a usable score", extra={"source": source, "reason": result.reason})
        response.status_code = status.HTTP_200_OK
        return WebhookAccepted(accepted=0, event_ids=[], ignored_reason=result.reason)
    try:
        check_times(result.events, policy=settings.time_policy)
    except InvalidRequest:
        request.app.state.vendor_metrics.labels(source, "invalid_time").inc()
        raise
    ingest.charge(f"vendor:{source}", len(result.events))
    ids = await ingest.publisher.publish(list(result.events), source=source)
    request.app.state.vendor_metrics.labels(source, "published").inc(len(ids))
    if result.unverified_reason is not None:
        # The reason names the check that failed, never the token (it would let the reader answer).
        request.app.state.vendor_metrics.labels(source, "unverified").inc(len(ids))
        log.info(
            "vendor answer with an unverified respondent", extra={"source": source, "reason": result.unverified_reason}
        )
    return WebhookAccepted(
        accepted=len(ids), event_ids=ids, ignored_reason=result.reason, unverified_reason=result.unverified_reason
    )
