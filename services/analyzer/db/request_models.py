"""Tables of survey requests: every request the analyzer made, and when each account was last asked on cadence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.analyzer.db.base import Base
from services.analyzer.db.types import StrEnumType
from services.analyzer.requests.schemas import RequestStatus


class SurveyRequest(Base):
    """One request to ask one person, at one moment, for one reason (docs/api.md, "Survey requests").

    ``status`` is ``pending`` until an answer carrying the ``request_id`` fulfils it, or ``expired``
    once ``expires_at`` passes (the sweep stamps it; readers also treat a pending row past it as expired).
    """

    __tablename__ = "survey_requests"

    request_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128))
    stakeholder_id: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(32))
    decision_maker: Mapped[bool]
    moment: Mapped[str] = mapped_column(String(64))
    # The journey moment's event id (None on a cadence round).
    moment_event_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(512))
    questions: Mapped[list[Any]] = mapped_column()
    status: Mapped[RequestStatus] = mapped_column(StrEnumType(RequestStatus, 16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    fulfilled_at: Mapped[datetime | None]
    # The answer's event id that fulfilled it.
    fulfilled_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        Index("ix_survey_requests_person", "account_id", "stakeholder_id", "created_at"),
        Index("ix_survey_requests_account", "account_id", "created_at"),
        Index("ix_survey_requests_status", "status", "expires_at"),
    )


class RequestRound(Base):
    """When the analyzer last chose whom to ask in an account on its cadence (the wall-clock sweep)."""

    __tablename__ = "survey_request_rounds"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_round_at: Mapped[datetime]
