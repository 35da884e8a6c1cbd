"""Plain factory functions for events and settings (no fixture magic)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from services.analyzer.settings import AnalyzerSettings
from services.ingest.settings import IngestSettings
from shared.settings import Topics

INGEST_KEY = "test-ingest-key"
ANALYZER_KEY = "test-analyzer-key"
SURVEY_LINK_SECRET = "test-survey-link-secret-0123456789abcdef"
# The key-encryption key of personal data in tests (both services must share it): base64 of 32 bytes.
PERSONAL_DATA_KEY = base64.b64encode(b"test-personal-data-key-32-bytes!").decode()


def create_survey(
    *,
    account_id: str = "acme",
    stakeholder_id: str = "jane@acme.example",
    occurred_at: Any = "2026-05-01T10:00:00Z",
    metric: str = "nps",
    score: Any = 9,
    **extra: Any,
) -> dict[str, Any]:
    """A valid ``survey_response`` body."""
    return {
        "type": "survey_response",
        "account_id": account_id,
        "stakeholder_id": stakeholder_id,
        "occurred_at": occurred_at,
        "metric": metric,
        "score": score,
        **extra,
    }


def create_stakeholder(
    *,
    account_id: str = "acme",
    stakeholder_id: str = "jane@acme.example",
    occurred_at: str = "2026-05-01T09:00:00Z",
    **fields: Any,
) -> dict[str, Any]:
    """A valid ``stakeholder`` directory event."""
    return {
        "type": "stakeholder",
        "account_id": account_id,
        "stakeholder_id": stakeholder_id,
        "occurred_at": occurred_at,
        **fields,
    }


def create_account(
    *, account_id: str = "acme", occurred_at: str = "2026-05-01T09:00:00Z", **fields: Any
) -> dict[str, Any]:
    """A valid ``account`` directory event."""
    return {"type": "account", "account_id": account_id, "occurred_at": occurred_at, **fields}


def create_moment(
    *, account_id: str = "acme", moment: str = "onboarding", occurred_at: str = "2026-05-01T09:00:00Z", **fields: Any
) -> dict[str, Any]:
    """A valid ``journey_moment`` event."""
    return {"type": "journey_moment", "account_id": account_id, "moment": moment, "occurred_at": occurred_at, **fields}


def create_ingest_settings(bootstrap: str, topics: Topics, **overrides: Any) -> IngestSettings:
    """Ingest settings pointing at the test broker and topics."""
    values: dict[str, Any] = {
        "environment": "test",
        "kafka_bootstrap_servers": bootstrap,
        "topics": topics,
        "ingest_api_keys": [INGEST_KEY],
        "survey_link_secret": SURVEY_LINK_SECRET,
        "personal_data_key": PERSONAL_DATA_KEY,
        "ingest_publish_timeout_s": 10.0,
        "kafka_create_topics": False,
    }
    values.update(overrides)
    return IngestSettings(_env_file=None, **values)


def create_analyzer_settings(bootstrap: str, topics: Topics, database_url: str, **overrides: Any) -> AnalyzerSettings:
    """Analyzer settings pointing at the test broker, topics, a fresh group and database."""
    values: dict[str, Any] = {
        "environment": "test",
        "kafka_bootstrap_servers": bootstrap,
        "topics": topics,
        "database_url": database_url,
        "analyzer_api_keys": [ANALYZER_KEY],
        "personal_data_key": PERSONAL_DATA_KEY,
        "analyzer_group_id": f"analyzer-{uuid.uuid4().hex[:8]}",
        "analyzer_poll_timeout_ms": 100,
        "analyzer_session_timeout_ms": 6000,
        "analyzer_outbox_sweep_s": 0.5,
        "kafka_create_topics": False,
    }
    values.update(overrides)
    return AnalyzerSettings(_env_file=None, **values)


def auth(key: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {key}"}
