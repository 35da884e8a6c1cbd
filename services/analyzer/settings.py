"""Analyzer settings (environment variables; see docs/configuration.md)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from services.analyzer.keys import ApiKey, parse_keys
from services.analyzer.model import DEFAULT_THRESHOLDS, Thresholds
from shared.proxies import TrustedProxies, parse_trusted_proxies
from shared.settings import ServiceSettings, split_keys

# Seconds before each retry: 5 s, 1 min, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h, 14 h, 16 h (about 3 days).
DEFAULT_RETRY_SCHEDULE_S = (5, 60, 300, 1800, 7200, 18_000, 36_000, 36_000, 50_400, 50_400, 57_600)
# The vendors that name respondents in survey-link parameters (services/ingest/vendors/links.py).
LinkVendor = Literal["typeform", "delighted"]


class AnalyzerSettings(ServiceSettings):
    """Everything the analyzer reads from its environment."""

    database_url: str = "sqlite+aiosqlite:///./var/feedback.db"
    # Loopback unless told otherwise (the image sets 0.0.0.0): a development run is not on the network.
    analyzer_host: str = "127.0.0.1"
    analyzer_port: int = Field(default=8001, ge=1, le=65535)
    # Entries `id:secret:scope1+scope2`, or (deprecated) a plain secret with every scope; see services/analyzer/keys.py.
    analyzer_api_keys: Annotated[list[ApiKey], NoDecode] = Field(default_factory=list)
    # Failed authentication (JSON API and dashboard sign-in together) per client address and per
    # presented key (shared/authguard.py).
    analyzer_auth_failures_per_min: float = Field(default=10.0, gt=0)
    analyzer_auth_failure_burst: int = Field(default=10, ge=1)
    # Peers whose X-Forwarded-For names the client (comma-separated addresses or networks; "*" is
    # refused), e.g. the compose gateway; everyone else is identified by the connection's own address.
    analyzer_trusted_proxies: TrustedProxies = Field(default_factory=lambda: parse_trusted_proxies("127.0.0.1"))
    analyzer_group_id: str = "analyzer"
    # Larger batches load and write each account's state once for more of its events (a backlog of
    # 1,000 accounts applies about 30 % faster at 2,000 than at 500); memory grows with the distinct
    # accounts one batch touches (docs/benchmarks.md, "Batch size").
    analyzer_max_batch_records: int = Field(default=2_000, ge=1, le=10_000)
    analyzer_poll_timeout_ms: int = Field(default=500, ge=10)
    analyzer_max_poll_interval_ms: int = Field(default=300_000, ge=10_000)
    analyzer_session_timeout_ms: int = Field(default=10_000, ge=6_000)
    analyzer_outbox_sweep_s: float = Field(default=5.0, gt=0)
    # How old an unpublished outbox row must be before the sweep sends it (the batch's own relay
    # call normally has by then).
    analyzer_outbox_grace_s: float = Field(default=10.0, ge=0)
    # Bounded storage (services/analyzer/retention.py): published outbox rows and finished webhook
    # deliveries are deleted after these, checked every ANALYZER_PRUNE_INTERVAL_S.
    analyzer_outbox_retention_s: float = Field(default=7 * 86_400, ge=0)
    webhook_delivery_retention_s: float = Field(default=30 * 86_400, ge=0)
    # The ledger of processed event ids keeps each id this long; a duplicate arriving later is still
    # recognised by the answer or moment it left (repository/ledger.py). Longer than any client's or
    # vendor's retries.
    analyzer_dedup_window_s: float = Field(default=7 * 86_400, ge=1)
    analyzer_prune_interval_s: float = Field(default=3600.0, gt=0)
    analyzer_publish_timeout_s: float = Field(default=10.0, gt=0)
    analyzer_run_migrations: bool = True
    analyzer_sweep_interval_s: float = Field(default=3600.0, ge=0)  # 0 disables the wall-clock sweep
    analyzer_lag_interval_s: float = Field(default=5.0, gt=0)  # how often consumer lag is measured
    # The most stored rows GET /v1/backtest (and the dashboard's backtest) reads into memory; past it, 422.
    analyzer_backtest_max_rows: int = Field(default=500_000, ge=1, le=100_000_000)
    model_half_life_days: float = Field(default=90.0, gt=0)
    # Every rule threshold (docs/model.md), e.g. THRESHOLDS__DIVERGENCE_WARNING=0.6,
    # THRESHOLDS__RENEWAL_WINDOW=P90D (ISO 8601 duration or seconds).
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    # An alert change whose as-of time (event time) is older than this when processed is history:
    # recorded and published with "news": false, not delivered to webhooks (docs/model.md, "Backfills").
    alert_news_horizon_s: float = Field(default=3 * 86_400.0, ge=0)

    # Survey requests (docs/model.md, "Survey requests: whom to ask"): at every journey moment, and on a
    # cadence through the wall-clock sweep, the analyzer chooses whom in an account to ask now.
    survey_requests_enabled: bool = True
    survey_request_min_interval_s: float = Field(default=30 * 86_400.0, ge=0)  # between two asks of one person
    survey_request_weekly_cap: int = Field(default=5, ge=0, le=10_000)  # requests per account in any 7 days
    survey_request_expiry_s: float = Field(default=14 * 86_400.0, gt=0)  # how long a request waits for its answer
    # A decision maker unheard for longer than this is asked (and counts as not heard in coverage).
    survey_request_silent_after_s: float = Field(default=90 * 86_400.0, gt=0)
    # A client role whose position has a larger standard error (on -1 ... +1) does not survive the noise.
    survey_request_role_max_se: float = Field(default=0.35, gt=0, le=2)
    survey_request_cadence_s: float = Field(default=30 * 86_400.0, ge=0)  # rounds outside moments; 0: none

    # Outbound webhooks (docs/webhooks.md). The retry schedule is the wait before each retry, in seconds,
    # e.g. WEBHOOK_RETRY_SCHEDULE_S=5,60,300; its default spans about three days over 12 attempts.
    webhook_allow_private_targets: bool = False
    webhook_retry_schedule_s: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [float(s) for s in DEFAULT_RETRY_SCHEDULE_S], min_length=1
    )
    webhook_retry_jitter: float = Field(default=0.2, ge=0, le=1)  # each wait is scaled by 1 ± this
    webhook_retry_after_max_s: float = Field(default=86_400.0, ge=0)  # cap on a receiver's Retry-After
    webhook_request_timeout_s: float = Field(default=15.0, gt=0)
    webhook_connect_timeout_s: float = Field(default=5.0, gt=0)
    webhook_max_concurrency: int = Field(default=64, ge=1)  # in-flight deliveries per analyzer process
    webhook_endpoint_concurrency: int = Field(default=4, ge=1)  # in-flight deliveries per subscription
    webhook_poll_interval_s: float = Field(default=1.0, gt=0)
    webhook_lease_s: float = Field(default=120.0, gt=0)  # must exceed the request timeout
    webhook_disable_after_s: float = Field(default=5 * 86_400.0, gt=0)  # continuous failure before disabling
    webhook_secret_overlap_s: float = Field(default=86_400.0, ge=0)  # old secret keeps signing after rotation
    webhook_dispatcher_enabled: bool = True
    # Bounds: subscriptions in all (a create past it gets 409), and per-origin connection pools kept open by
    # the dispatcher (the least recently used idle one is closed past it).
    webhook_max_subscriptions: int = Field(default=1000, ge=1, le=1_000_000)
    webhook_max_connection_pools: int = Field(default=256, ge=1, le=100_000)

    # The dashboard (docs/dashboard.md): the secret signing its session cookies (at least 32 characters;
    # unset, each process draws one at start), how long a session lasts, and whether its cookies are
    # Secure (unset: in production only).
    dashboard_session_secret: SecretStr | None = Field(default=None, min_length=32)
    dashboard_session_ttl_s: float = Field(default=8 * 3600.0, ge=60, le=30 * 86_400)
    dashboard_cookie_secure: bool | None = None
    # Vendors whose survey-link parameters are trusted although no link token vouches for them (e.g.
    # "typeform,delighted"): their unverified answers are applied like any other. Empty: none is
    # (docs/security.md, "Who may answer as whom").
    trust_link_parameters: Annotated[list[LinkVendor], NoDecode] = Field(default_factory=list)

    # Who may read GET /metrics and the OpenAPI document (/openapi.json, /docs, /redoc): "open" (anyone),
    # "key" (an API key with the read scope) or "off" (404). Unset: "open" outside production; in
    # production metrics need a key and the OpenAPI pages are off.
    analyzer_metrics_access: Literal["open", "key", "off"] | None = None
    analyzer_docs_access: Literal["open", "key", "off"] | None = None

    @property
    def metrics_access(self) -> Literal["open", "key", "off"]:
        """Who may read ``/metrics``, the default applied."""
        if self.analyzer_metrics_access is not None:
            return self.analyzer_metrics_access
        return "key" if self.environment == "production" else "open"

    @property
    def docs_access(self) -> Literal["open", "key", "off"]:
        """Who may read the OpenAPI document and pages, the default applied."""
        if self.analyzer_docs_access is not None:
            return self.analyzer_docs_access
        return "off" if self.environment == "production" else "open"

    @field_validator("analyzer_api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        return parse_keys(value)

    @field_validator("trust_link_parameters", mode="before")
    @classmethod
    def _split_vendors(cls, value: object) -> object:
        return split_keys(value)

    @field_validator("webhook_retry_schedule_s", mode="before")
    @classmethod
    def _split_schedule(cls, value: object) -> object:
        return split_keys(value)

    @model_validator(mode="after")
    def _no_placeholders(self) -> Self:
        self.refuse_placeholders("ANALYZER_API_KEYS", [k.secret for k in self.analyzer_api_keys], self.environment)
        self.refuse_missing_kek()
        self.refuse_weak_keys_on_network(
            "ANALYZER_API_KEYS", [k.secret for k in self.analyzer_api_keys], "ANALYZER_HOST", self.analyzer_host
        )
        return self
