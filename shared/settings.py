"""Settings shared by both services, read from the environment and ``.env`` (pydantic-settings)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.event_time import DEFAULT_EARLIEST, DEFAULT_MAX_FUTURE, TimePolicy, calendar_error

# Keys that ``make run`` fills in for local development; refused outside development.
DEVELOPMENT_PLACEHOLDER_KEYS = frozenset({"dev-ingest-key", "dev-analyzer-key", "changeme"})


class Topics(BaseModel):
    """The public Kafka topic names of docs/api.md (overridable so tests can isolate themselves)."""

    events: str = "feedback.events.v1"
    alerts: str = "feedback.alerts.v1"
    positions: str = "feedback.positions.v1"
    dlq: str = "feedback.dlq.v1"

    def all(self) -> list[str]:
        """Every topic the system uses."""
        return [self.events, self.alerts, self.positions, self.dlq]


def split_keys(value: object) -> object:
    """Accept ``a,b,c`` from the environment as a list of keys; blanks are dropped."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class ServiceSettings(BaseSettings):
    """What both services read: environment, Kafka, topics, logging."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
        # A refused setting may be a secret (an API key entry): errors never repeat the value given.
        hide_input_in_errors=True,
    )

    environment: Literal["development", "test", "production"] = "production"
    log_level: str = "INFO"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_client_id_prefix: str = "feedback"
    kafka_topic_partitions: int = Field(default=6, ge=1, le=1000)
    kafka_replication_factor: int = Field(default=1, ge=1, le=10)
    kafka_create_topics: bool = True
    kafka_request_timeout_s: float = Field(default=10.0, gt=0)
    topics: Topics = Topics()
    # The window of accepted event times (docs/api.md, "Event time"): ingest answers 422 outside it
    # and the analyzer dead-letters a record outside it.
    event_time_earliest: AwareDatetime = DEFAULT_EARLIEST
    event_time_max_future_s: float = Field(default=DEFAULT_MAX_FUTURE.total_seconds(), ge=0, le=366 * 86_400)

    @field_validator("event_time_earliest")
    @classmethod
    def _earliest_in_calendar(cls, value: datetime) -> datetime:
        if (reason := calendar_error(value)) is not None:
            raise ValueError(f"EVENT_TIME_EARLIEST {reason}")
        return value

    @property
    def time_policy(self) -> TimePolicy:
        """The accepted window of event times."""
        return TimePolicy(self.event_time_earliest, timedelta(seconds=self.event_time_max_future_s))

    @staticmethod
    def refuse_placeholders(name: str, keys: list[SecretStr], environment: str) -> None:
        """Refuse to start in production on the development keys that ``make run`` fills in."""
        if environment == "production":
            for key in keys:
                if key.get_secret_value() in DEVELOPMENT_PLACEHOLDER_KEYS:
                    raise ValueError(
                        f"{name} holds a development placeholder key; set real keys or ENVIRONMENT=development",
                    )


ApiKeys = Annotated[list[SecretStr], NoDecode]
