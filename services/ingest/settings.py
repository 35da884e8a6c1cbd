"""Ingest settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.proxies import TrustedProxies, parse_trusted_proxies
from shared.settings import ApiKeys, ServiceSettings, split_keys
from shared.survey_links import MIN_SECRET_CHARS

VENDOR_SOURCES = ("zendesk", "intercom", "typeform", "delighted", "freshdesk")
LINK_SOURCES = ("typeform", "delighted")  # vendors that name the respondent in survey-link parameters


class IngestSettings(ServiceSettings):
    """Everything the ingest service reads from its environment."""

    # Loopback unless told otherwise (the image sets 0.0.0.0): a development run is not on the network.
    ingest_host: str = "127.0.0.1"
    ingest_port: int = Field(default=8000, ge=1, le=65535)
    # Worker processes serving the port (uvicorn's supervisor); rate limits and metrics are shared.
    ingest_workers: int = Field(default=1, ge=1, le=64)
    # Where several workers share their rate-limit table and metrics (a fresh temporary folder when
    # unset); cleared at start.
    ingest_state_dir: Path | None = None
    ingest_api_keys: ApiKeys = Field(default_factory=list)
    ingest_max_batch_events: int = Field(default=500, ge=1, le=10_000)
    ingest_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    ingest_publish_timeout_s: float = Field(default=10.0, gt=0, le=120)
    ingest_rate_limit_per_s: float = Field(default=1000.0, gt=0)  # events per second per client
    ingest_rate_limit_burst: int = Field(default=2000, ge=1)
    # Failed authentication per client address and per presented key (services/ingest/authguard.py).
    ingest_auth_failures_per_min: float = Field(default=10.0, gt=0)
    ingest_auth_failure_burst: int = Field(default=20, ge=1)
    # Peers whose X-Forwarded-For names the client (comma-separated addresses or networks; "*" is
    # refused); everyone else is identified by the connection's own address (shared/proxies.py).
    ingest_trusted_proxies: TrustedProxies = Field(default_factory=lambda: parse_trusted_proxies("127.0.0.1"))

    webhook_secret_zendesk: SecretStr | None = None
    webhook_secret_intercom: SecretStr | None = None
    webhook_secret_typeform: SecretStr | None = None
    webhook_secret_delighted: SecretStr | None = None
    webhook_secret_freshdesk: SecretStr | None = None
    webhook_timestamp_tolerance_s: int = Field(default=300, ge=1)
    delighted_account_property: str = "Account ID"
    # Signs survey-link tokens (shared/survey_links.py, docs/security.md "Who may answer as whom"): a
    # Typeform or Delighted answer whose link token it verifies is "signed_link", any other "unverified".
    survey_link_secret: SecretStr | None = None

    @field_validator("ingest_api_keys", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return split_keys(value)

    @field_validator("survey_link_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"SURVEY_LINK_SECRET must be at least {MIN_SECRET_CHARS} characters")
        return value

    @model_validator(mode="after")
    def _no_placeholders(self) -> Self:
        self.refuse_placeholders("INGEST_API_KEYS", self.ingest_api_keys, self.environment)
        secret = [self.survey_link_secret] if self.survey_link_secret is not None else []
        self.refuse_placeholders("SURVEY_LINK_SECRET", secret, self.environment)
        if self.environment == "production" and not secret and any(map(self.vendor_secret, LINK_SOURCES)):
            # Without it every answer through a survey link is unverified: accepted, never counted.
            raise ValueError(
                "SURVEY_LINK_SECRET is required in production when WEBHOOK_SECRET_TYPEFORM or "
                "WEBHOOK_SECRET_DELIGHTED is set (it verifies who answered through a survey link)",
            )
        self.refuse_missing_kek()
        self.refuse_weak_keys_on_network("INGEST_API_KEYS", self.ingest_api_keys, "INGEST_HOST", self.ingest_host)
        return self

    def vendor_secret(self, source: str) -> SecretStr | None:
        """The signing secret configured for a vendor, or None (its endpoint then answers 404)."""
        if source not in VENDOR_SOURCES:
            return None
        secret: SecretStr | None = getattr(self, f"webhook_secret_{source}")
        if secret is None or not secret.get_secret_value():
            return None
        return secret

    def link_secret(self) -> str | None:
        """The ``SURVEY_LINK_SECRET`` in clear (for the link checks only), or None when unset."""
        return self.survey_link_secret.get_secret_value() if self.survey_link_secret is not None else None
