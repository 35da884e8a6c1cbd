"""Ingest's logic: validate a request's events, give them ids, publish them durably to Kafka."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError

from services.ingest.sealing import Sealer
from shared.errors import InvalidRequest, Unavailable
from shared.event_time import TimePolicy
from shared.events import EVENT_ADAPTER, Event, JourneyMoment, event_key
from shared.json_body import MAX_NUMBER_CHARS, JsonBodyError, load_json
from shared.kafka import DurablePublisher, PublishFailed, PublishTimeout, Record
from shared.personal import identity_key_secret
from shared.settings import Topics

log = logging.getLogger(__name__)

SCHEMA_HEADER = ("schema", b"feedback.event.v1")


def parse_json(body: bytes) -> Any:
    """Decode a JSON body (nesting and number sizes bounded), or raise 422 saying what is wrong."""
    try:
        return load_json(body)
    except JsonBodyError as exc:
        raise InvalidRequest(
            [{"index": None, "field": "", "message": f"invalid JSON: {exc}", "type": "json_invalid"}]
        ) from exc


def _field(loc: Sequence[int | str], value: Any) -> str:
    # Drop the discriminator tag pydantic puts first ("survey_response", ...); a missing or unknown
    # type has no tag and is reported against the field "type".
    parts = [str(p) for p in loc]
    if parts and isinstance(value, dict) and parts[0] == value.get("type"):
        parts = parts[1:]
    return ".".join(parts) or "type"


def check_times(events: Sequence[Event], *, policy: TimePolicy, first_index: int = 0) -> None:
    """Raise one 422 naming ``occurred_at`` of every event outside the accepted window of event times."""
    now = datetime.now(UTC)
    errors = [
        {"index": index, "field": "occurred_at", "message": reason, "type": "time_out_of_window"}
        for index, event in enumerate(events, start=first_index)
        if (reason := policy.violation(event.occurred_at, now)) is not None
    ]
    if errors:
        raise InvalidRequest(errors)


def validate_events(items: Sequence[Any], *, policy: TimePolicy) -> list[Event]:
    """Validate every item; raise one 422 listing each error with its batch index and field."""
    events: list[Event] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            event = EVENT_ADAPTER.validate_python(item)
        except ValidationError as exc:
            errors.extend(
                {
                    "index": index,
                    "field": _field(err["loc"], item),
                    "message": err["msg"],
                    "type": err["type"],
                }
                for err in exc.errors(include_url=False, include_input=False)
            )
            continue
        try:
            check_times([event], policy=policy, first_index=index)
        except InvalidRequest as exc:
            errors.extend(exc.detail)
        events.append(event)
    if errors:
        raise InvalidRequest(errors)
    return events


class _BatchBody(BaseModel):
    """``{"events": [...]}``; other keys are ignored, as by ``batch_items``."""

    model_config = ConfigDict(extra="ignore")

    events: list[Event]


# Bytes that can make up a JSON number map to "0", everything else to " ": a run of more than
# MAX_NUMBER_CHARS zeros in the translation is a number load_json would refuse (or part of a string,
# which the careful path then decides). translate and ``in`` are linear scans in C, where a regex
# for the same run cost a tenth of a batch request in the profile.
_NUMBERISH: Final = bytes(ord("0") if chr(b) in "+-.0123456789eE" else ord(" ") for b in range(256))
_LONG_RUN: Final = b"0" * (MAX_NUMBER_CHARS + 1)


def _may_hold_long_number(body: bytes) -> bool:
    return _LONG_RUN in body.translate(_NUMBERISH)


def read_events(body: bytes, *, policy: TimePolicy, max_batch: int | None = None) -> list[Event]:
    """The events of a request body (one event, or a batch when ``max_batch`` is given), validated.

    The common case is decided straight from the bytes by pydantic's own JSON parser: one pass, no
    intermediate Python objects. Anything else takes the careful path (``load_json``, then
    ``validate_events``), which alone produces errors, so every 422 names the same index and field
    as before: a body that fails the fast path, one that might hold a number over the size bound,
    a batch of the wrong length, and a journey moment with attributes (the only free-form part of an
    event, whose nesting and numbers the careful path bounds).
    """
    events = None if _may_hold_long_number(body) else _validate_fast(body, batch=max_batch is not None)
    if (
        events is None
        or (max_batch is not None and not 1 <= len(events) <= max_batch)
        or any(isinstance(e, JourneyMoment) and e.attributes for e in events)
    ):
        payload = parse_json(body)
        items = [payload] if max_batch is None else batch_items(payload, max_events=max_batch)
        return validate_events(items, policy=policy)
    check_times(events, policy=policy)
    return events


def _validate_fast(body: bytes, *, batch: bool) -> list[Event] | None:
    try:
        if batch:
            return _BatchBody.model_validate_json(body).events
        return [EVENT_ADAPTER.validate_json(body)]
    except ValidationError:
        return None


def batch_items(payload: Any, *, max_events: int) -> list[Any]:
    """The ``events`` list of a batch body, bounded in length."""
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise InvalidRequest(
            [{"index": None, "field": "events", "message": 'body must be {"events": [...]}', "type": "missing"}]
        )
    items: list[Any] = payload["events"]
    if not items:
        raise InvalidRequest(
            [{"index": None, "field": "events", "message": "events must not be empty", "type": "too_short"}]
        )
    if len(items) > max_events:
        raise InvalidRequest(
            [
                {
                    "index": None,
                    "field": "events",
                    "message": f"at most {max_events} events per batch",
                    "type": "too_long",
                }
            ],
        )
    return items


class EventPublisher:
    """Turns validated events into Kafka records and waits for acks=all."""

    def __init__(
        self,
        publisher: DurablePublisher,
        topics: Topics,
        *,
        timeout_s: float,
        kek: bytes,
        key_rotation_s: float,
    ) -> None:
        self._publisher = publisher
        self._topics = topics
        self._timeout_s = timeout_s
        self._sealer = Sealer(publisher, keys_topic=topics.keys, kek=kek, rotation_s=key_rotation_s)
        self._key_secret = identity_key_secret(kek)

    async def publish(self, events: Sequence[Event], *, source: str) -> list[str]:
        """Publish ``events`` with their personal data sealed; return their ids.

        Raises 503 unless Kafka acknowledged every one (and, before them, every new data key).
        """
        received = datetime.now(UTC).isoformat().encode()
        headers = (SCHEMA_HEADER, ("received_at", received), ("source", source.encode()))
        records = []
        try:
            # Gives each event its id first when it has none, from its plaintext content.
            values = await self._sealer.encode(events, timeout_s=self._timeout_s)
            for event, value in zip(events, values, strict=True):
                key = event_key(event, secret=self._key_secret)
                records.append(Record(topic=self._topics.events, key=key, value=value, headers=headers))
            await self._publisher.publish(records, timeout_s=self._timeout_s)
        except (PublishTimeout, PublishFailed) as exc:
            log.warning("publish failed", extra={"events": len(events), "reason": str(exc)})
            raise Unavailable(
                "Kafka did not acknowledge the events in time; retry with the same event_id (retries are safe)",
                retry_after_s=5,
            ) from exc
        return [e.event_id for e in events if e.event_id is not None]
