"""The analyzer's tables (SQLAlchemy 2 declarative). The analyzer owns all state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from services.analyzer.db.base import Base, BigIntPK
from services.analyzer.db.types import StrEnumType
from services.analyzer.model.alerts import AlertStatus, AlertType, Severity
from shared.events import Side


class Account(Base):
    """A client account; directory fields are upserts, each field's latest ``occurred_at`` wins."""

    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    segment: Mapped[str | None] = mapped_column(String(64), index=True)
    renewal_date: Mapped[date | None] = mapped_column(Date)
    annual_value: Mapped[float | None] = mapped_column(Float)
    # field name -> [occurred_at ISO, event_id] of the event that last set it (upsert ordering)
    field_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen_at: Mapped[datetime]
    last_event_at: Mapped[datetime]


class AccountAlias(Base):
    """Another id for an account (e.g. ``zendesk:org:900017``)."""

    __tablename__ = "account_aliases"

    alias: Mapped[str] = mapped_column(String(256), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(128))


class Stakeholder(Base):
    """A person at an account; ``role`` is ``unassigned`` until a directory event gives one."""

    __tablename__ = "stakeholders"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    stakeholder_id: Mapped[str] = mapped_column(String(256), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32), default="unassigned")
    side: Mapped[Side] = mapped_column(String(16), default="client")
    influence: Mapped[float] = mapped_column(Float, default=1.0)
    # Whether the person decides the renewal; None: as their role does by default.
    decision_maker: Mapped[bool | None] = mapped_column(Boolean)
    # Whether survey requests may ask the person; None: never said, so they may.
    contactable: Mapped[bool | None] = mapped_column(Boolean)
    field_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    first_seen_at: Mapped[datetime]


class StakeholderAlias(Base):
    """Another id for a person (``zendesk:user:4412``, an email, ...)."""

    __tablename__ = "stakeholder_aliases"

    alias: Mapped[str] = mapped_column(String(256), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128))
    stakeholder_id: Mapped[str] = mapped_column(String(256))
    set_at: Mapped[datetime]
    set_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (Index("ix_stakeholder_aliases_person", "account_id", "stakeholder_id"),)


class Response(Base):
    """One version of one answer. Versions sharing ``response_key`` are one answer; the latest counts."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    response_key: Mapped[str] = mapped_column(String(300), index=True)
    account_id: Mapped[str] = mapped_column(String(128))
    stakeholder_id: Mapped[str] = mapped_column(String(256))
    occurred_at: Mapped[datetime]
    metric: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    scale_min: Mapped[float] = mapped_column(Float)
    scale_max: Mapped[float] = mapped_column(Float)
    higher_is_better: Mapped[bool] = mapped_column(Boolean)
    dimension: Mapped[str | None] = mapped_column(String(64))
    moment: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(64))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (Index("ix_responses_person", "account_id", "stakeholder_id", "is_current"),)


class JourneyMomentRow(Base):
    """A journey moment (onboarding, support_close, renewal_approach, ...)."""

    __tablename__ = "journey_moments"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    stakeholder_id: Mapped[str | None] = mapped_column(String(256))
    moment: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ConsumerPosition(Base):
    """The next offset to apply in one partition: where the state stops, written with the state."""

    __tablename__ = "consumer_positions"

    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Every event applied to the state, written in the same transaction: replays are no-ops."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(BigInteger)
    processed_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))  # applied | duplicate_answer | dead_lettered | shredded


class OutboxMessage(Base):
    """A record to publish to Kafka, written with the state change that caused it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    topic: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(256))
    value: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    # Which relay is sending the row, until when (outbox/repository.py: claim).
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))


class UnattributedAnswer(Base):
    """A vendor answer whose person (or account) the directory does not know yet; nothing is dropped.

    It is attributed, and only then counted, as soon as a directory event names one of its identities.
    """

    __tablename__ = "unattributed_answers"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    event: Mapped[dict[str, Any]] = mapped_column()  # the canonical survey_response, as received
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]


class UnverifiedAnswer(Base):
    """A vendor answer whose respondent only editable survey-link parameters name (no valid link token).

    Held and counted, never applied: it creates no account or person and moves no position (docs/security.md,
    "Who may answer as whom"), unless ``TRUST_LINK_PARAMETERS`` names its source. ``account_id`` and
    ``stakeholder_id`` are the directory's when it knew the respondent on arrival, else the ids as named.
    """

    __tablename__ = "unverified_answers"

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    response_key: Mapped[str] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(64))
    account_id: Mapped[str | None] = mapped_column(String(128), index=True)
    stakeholder_id: Mapped[str | None] = mapped_column(String(256))
    known: Mapped[bool] = mapped_column(Boolean)  # whether the directory knew the person on arrival
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    event: Mapped[dict[str, Any]] = mapped_column()  # the canonical survey_response, as received


class UnattributedIdentity(Base):
    """One identity an unattributed answer named: the lookup from a directory write to its answers."""

    __tablename__ = "unattributed_identities"

    identity: Mapped[str] = mapped_column(String(256), primary_key=True)
    event_id: Mapped[str] = mapped_column(
        ForeignKey("unattributed_answers.event_id", ondelete="CASCADE"),
        primary_key=True,
    )
    kind: Mapped[str] = mapped_column(String(16))  # stakeholder | account


class AccountModel(Base):
    """The model's incremental state of one account (docs/model.md), plus the figures the API lists.

    ``document`` holds the decayed states per stakeholder and dimension, the latest classic answer
    per person and metric, and the recorded series pruned to their windows: its size depends on the
    account's people and the windows, never on its history.
    """

    __tablename__ = "account_models"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column()
    as_of: Mapped[datetime]
    account_mean: Mapped[float | None] = mapped_column(Float)
    divergence: Mapped[float | None] = mapped_column(Float, index=True)
    nps: Mapped[float | None] = mapped_column(Float)
    # The renewal-risk probability at the account's newest evaluation point.
    risk: Mapped[float | None] = mapped_column(Float, index=True)


class RiskModelRow(Base):
    """One fit of the renewal-risk model (``feedback risk fit``); the analyzer uses the active one."""

    __tablename__ = "risk_models"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime]
    intercept: Mapped[float] = mapped_column(Float)
    coefficients: Mapped[dict[str, Any]] = mapped_column()
    prior_position: Mapped[float] = mapped_column(Float)
    prior_sd: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300))
    renewals: Mapped[int]
    bad: Mapped[int]
    # The out-of-time check of the fit: trained_on, tested_on and the three Brier scores.
    validation: Mapped[dict[str, Any] | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AlertRow(Base):
    """One alert (docs/api.md, "Alerts"): opened once per condition, updated, acknowledged, resolved."""

    __tablename__ = "alerts"

    alert_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    type: Mapped[AlertType] = mapped_column(String(32), index=True)
    key: Mapped[str | None] = mapped_column(String(256))
    severity: Mapped[Severity] = mapped_column(String(16))
    status: Mapped[AlertStatus] = mapped_column(StrEnumType(AlertStatus, 16), index=True)
    active: Mapped[bool] = mapped_column(Boolean, index=True)  # still tracked by its condition
    opened_as_of: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    seq: Mapped[int] = mapped_column(Integer, default=0)  # changes delivered so far
    record: Mapped[dict[str, Any]] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(256))
    acknowledged_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(256))
    resolved_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    # When its condition cleared, in event time (None while it holds).
    closed_as_of: Mapped[datetime | None]
    # The state last published to the alerts topic and last delivered to webhooks ("open:<severity>"
    # or "resolved"; None: never). An open alert never delivered waits for the analyzer to catch up.
    announced: Mapped[str | None] = mapped_column(String(24))
    notified: Mapped[str | None] = mapped_column(String(24))

    __table_args__ = (Index("ix_alerts_pending", "active", "notified"),)


class Erasure(Base):
    """One erasure of a person (``DELETE /v1/stakeholders/{id}``): when, by which key, what it removed.

    It holds no personal data: the ids the person was known by are kept only as hashes, in
    ``erasure_subjects``.
    """

    __tablename__ = "erasures"

    erasure_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    erased_at: Mapped[datetime]
    erased_by: Mapped[str] = mapped_column(String(128))
    counts: Mapped[dict[str, Any]] = mapped_column()


class ErasureSubject(Base):
    """The hash of one id an erased person was known by; records naming it published before are skipped."""

    __tablename__ = "erasure_subjects"

    subject_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erasure_id: Mapped[str] = mapped_column(ForeignKey("erasures.erasure_id"), primary_key=True)
    erased_at: Mapped[datetime]
