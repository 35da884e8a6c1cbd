"""Analyzer settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from shared.settings import ApiKeys, ServiceSettings, split_keys


class AnalyzerSettings(ServiceSettings):
    """Everything the analyzer reads from its environment."""

    database_url: str = "sqlite+aiosqlite:///./var/feedback.db"
    analyzer_host: str = "0.0.0.0"  # noqa: S104 - a service listens on all interfaces in a container
    analyzer_port: int = Field(default=8001, ge=1, le=65535)
    analyzer_api_keys: ApiKeys = Field(default_factory=list)
    analyzer_group_id: str = "analyzer"
    analyzer_max_batch_records: int = Field(default=500, ge=1, le=10_000)
    analyzer_poll_timeout_ms: int = Field(default=500, ge=10)
    analyzer_max_poll_interval_ms: int = Field(default=300_000, ge=10_000)
    analyzer_session_timeout_ms: int = Field(default=10_000, ge=6_000)
    analyzer_outbox_sweep_s: float = Field(default=5.0, gt=0)
    analyzer_publish_timeout_s: float = Field(default=10.0, gt=0)
    analyzer_run_migrations: bool = True

    @field_validator("analyzer_api_keys", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_keys(value)

    @model_validator(mode="after")
    def _no_placeholders(self) -> Self:
        self.refuse_placeholders("ANALYZER_API_KEYS", self.analyzer_api_keys, self.environment)
        return self
