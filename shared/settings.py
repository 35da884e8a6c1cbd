"""Settings shared by both services, read from the environment and ``.env`` (pydantic-settings)."""

from __future__ import annotations

import ipaddress
import sys
from datetime import datetime, timedelta
from typing import Annotated, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.event_time import DEFAULT_EARLIEST, DEFAULT_MAX_FUTURE, TimePolicy, calendar_error

# Keys that ``make run`` fills in for local development; refused outside development.
DEVELOPMENT_PLACEHOLDER_KEYS = frozenset({"dev-ingest-key", "dev-analyzer-key", "changeme"})
# The shortest API key a service accepts while it listens beyond loopback.
MIN_NETWORK_KEY_LENGTH = 32
LOOPBACK_HOST_NAMES = frozenset({"localhost", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True if a bind address reaches this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_HOST_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or interface address: reachable from elsewhere, as far as we know


def weak_key_problem(keys: list[SecretStr]) -> str | None:
    """Why one of ``keys`` must not guard a service others can reach, or None."""
    for key in keys:
        value = key.get_secret_value()
        if value in DEVELOPMENT_PLACEHOLDER_KEYS:
            return "holds a development placeholder key"
        if len(value) < MIN_NETWORK_KEY_LENGTH:
            return f"holds a key shorter than {MIN_NETWORK_KEY_LENGTH} characters"
    return None


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
    # Placeholder or short API keys are refused while a service binds beyond loopback. This lets a
    # development container (bound to 0.0.0.0 inside, published on the host's loopback only) use them;
    # it has no effect in production.
    allow_weak_api_keys: bool = False

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

    def refuse_weak_keys_on_network(self, name: str, keys: list[SecretStr], host_name: str, host: str) -> None:
        """Refuse placeholder or short keys while the service listens beyond loopback.

        Anyone on the network could use a published development key (``make run``'s) or guess a
        short one. ``ALLOW_WEAK_API_KEYS`` lifts this outside production only.
        """
        if is_loopback(host) or (self.allow_weak_api_keys and self.environment != "production"):
            return
        if (problem := weak_key_problem(keys)) is not None:
            raise ValueError(
                f"{name} {problem}, and {host_name}={host} listens beyond this machine: set keys of at least "
                f"{MIN_NETWORK_KEY_LENGTH} characters, or {host_name}=127.0.0.1",
            )


ApiKeys = Annotated[list[SecretStr], NoDecode]


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def settings_or_exit(cls: type[SettingsT]) -> SettingsT:
    """The service's settings, or exit (status 2) with one line per invalid setting.

    Each line names the setting and the reason, never the value: pydantic's own message quotes
    the input, which for a whole-settings check holds every API key.
    """
    try:
        return cls()
    except ValidationError as exc:
        lines = [
            f"{'.'.join(str(part) for part in error['loc']).upper() or 'settings'}: {error['msg']}"
            for error in exc.errors()
        ]
        print("invalid configuration:\n  " + "\n  ".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
