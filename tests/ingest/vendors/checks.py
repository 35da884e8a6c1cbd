"""Assertions shared by the vendor adapter tests."""

from __future__ import annotations

from services.ingest.vendors import VendorResult
from shared.events import EVENT_ADAPTER, SurveyResponse, decode_event, encode_event


def publishable(result: VendorResult) -> tuple[SurveyResponse, ...]:
    """The result's events, each checked to pass the canonical schema exactly as it travels on Kafka."""
    for event in result.events:
        assert EVENT_ADAPTER.validate_python(event.model_dump(mode="json", exclude_none=True)) == event
        assert decode_event(encode_event(event)) == event
        assert event.event_id is not None
        assert event.response_id is not None
    return result.events
