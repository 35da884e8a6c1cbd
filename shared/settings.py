"""Settings shared by both services, read from the environment and ``.env`` (pydantic-settings)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.event_time import DEFAULT_EARLIEST, DEFAULT_MAX_FUTURE, TimePolicy, calendar_error
from shared.kafka_security import KafkaSecurity, SaslMechanism, SecurityProtocol, security_errors

# Keys that ``make run`` fills in for local development; refused outside development.
DEVELOPMENT_PLACEHOLDER_KEYS = frozenset(
    {
        "dev-ingest-key",
        "dev-analyzer-key",
        "changeme",
        "dev-survey-link-secret-not-for-production",
        "changeme-survey-link-secret-32-chars-min",
    }
)
# The key-encryption key of personal data when ENVIRONMENT is development or test and none is set
# (``make run``, docker-compose.yml's defaults, the tests); refused in production.
DEVELOPMENT_PERSONAL_DATA_KEY = base64.b64encode(b"development-only-personal-data!!").decode()
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
    # The erasure records (hashes of ids, no personal data), kept forever like the events they erase.
    erasures: str = "feedback.erasures.v1"
    # The data keys sealing personal data on the events topic (compacted; docs/operations.md).
    keys: str = "feedback.keys.v1"
    # The survey requests the analyzer makes (docs/api.md, "Survey requests").
    survey_requests: str = "feedback.survey_requests.v1"

    def all(self) -> list[str]:
        """Every topic the system uses."""
        return [self.events, self.alerts, self.positions, self.dlq, self.erasures, self.keys, self.survey_requests]

    def derived(self) -> list[str]:
        """The topics the analyzer derives (finite retention): from the events, so a rebuild derives them
        again, and the survey requests, which are notices, not state (the database keeps the requests)."""
        return [self.alerts, self.positions, self.dlq, self.survey_requests]


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
        # A refused setting must not print its value: a validation error echoes the whole input
        # (KAFKA_SASL_PASSWORD, API keys) into the start-up traceback, i.e. into the logs.
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
    # How the clients reach and prove themselves to the brokers (docs/security.md, "Kafka: TLS and SASL").
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None  # unset: the system's trusted CAs
    kafka_ssl_certfile: Path | None = None  # a client certificate, for brokers that require mutual TLS
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_key_password: SecretStr | None = None
    topics: Topics = Topics()
    # The window of accepted event times (docs/api.md, "Event time"): ingest answers 422 outside it
    # and the analyzer dead-letters a record outside it.
    event_time_earliest: AwareDatetime = DEFAULT_EARLIEST
    event_time_max_future_s: float = Field(default=DEFAULT_MAX_FUTURE.total_seconds(), ge=0, le=366 * 86_400)
    # Retention of the topics derived from the events (alerts, positions, dead letters), set when a
    # service creates them; the events topic keeps everything (a rebuild derives the rest again).
    kafka_derived_retention_s: float = Field(default=30 * 86_400.0, gt=0)
    # The key-encryption key (base64 of 32 random bytes, e.g. `openssl rand -base64 32`) wrapping the
    # data keys that seal personal data on the events topic; the same in ingest and analyzer. Required
    # in production; development and test fall back to a fixed development key.
    personal_data_key: SecretStr | None = None
    # How long ingest seals one person's records with the same data key before drawing a new one.
    personal_data_key_rotation_s: float = Field(default=86_400.0, gt=0)
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

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        # Kafka's own documentation spells them in capitals; sasl_ssl is as clear and means the same.
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _kafka_security_consistent(self) -> Self:
        problems = security_errors(self.kafka_security, self.environment)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def kafka_security(self) -> KafkaSecurity:
        """The Kafka connection's security settings, as one value (see shared/kafka_security.py)."""
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            cafile=self.kafka_ssl_cafile,
            certfile=self.kafka_ssl_certfile,
            keyfile=self.kafka_ssl_keyfile,
            key_password=self.kafka_ssl_key_password,
        )

    @field_validator("personal_data_key")
    @classmethod
    def _kek_is_a_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            _decode_kek(value.get_secret_value())
        return value

    @property
    def personal_data_kek(self) -> bytes:
        """The key-encryption key: PERSONAL_DATA_KEY, or the development key outside production."""
        configured = self.personal_data_key.get_secret_value() if self.personal_data_key else ""
        if configured:
            return _decode_kek(configured)
        if self.environment == "production":
            raise ValueError("PERSONAL_DATA_KEY is required in production (base64 of 32 bytes)")
        return _decode_kek(DEVELOPMENT_PERSONAL_DATA_KEY)

    def refuse_missing_kek(self) -> None:
        """Refuse to start in production without a real PERSONAL_DATA_KEY (unset, or the development key)."""
        if self.environment != "production":
            return
        configured = self.personal_data_key.get_secret_value() if self.personal_data_key else ""
        if not configured:
            raise ValueError(
                "PERSONAL_DATA_KEY is required in production: base64 of 32 random bytes, the same for "
                "ingest and analyzer (e.g. `openssl rand -base64 32`); or ENVIRONMENT=development"
            )
        if configured == DEVELOPMENT_PERSONAL_DATA_KEY:
            raise ValueError("PERSONAL_DATA_KEY holds the development key; set a real one or ENVIRONMENT=development")

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


def _decode_kek(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:  # AES-256
        raise ValueError("PERSONAL_DATA_KEY must be base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)")
    return key


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
