"""Tables of action plans: what the supplier does about an alert, and the notes of its progress (issue 18)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.analyzer.db.base import Base, BigIntPK


class ActionPlan(Base):
    """One action plan on one alert (docs/api.md, "Action plans").

    ``before`` is the gap between the alert's two roles, measured when the plan was made; the after is
    read from the account's state once follow-up answers arrive, so it is not stored.
    """

    __tablename__ = "action_plans"

    plan_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(80))
    account_id: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(256))
    due_date: Mapped[date | None] = mapped_column(Date)
    steps: Mapped[list[Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))  # planned | in_progress | done | abandoned
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When it reached done or abandoned (None while open).
    completed_at: Mapped[datetime | None]
    # The account's clock (event time: its latest event) when the plan reached done; the backtest's saves
    # read it beside the alerts' event-time spans. None while open, abandoned, or on an account without events.
    completed_as_of: Mapped[datetime | None]
    # The key that made it (a key id, never a secret).
    created_by: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column()
    seq: Mapped[int] = mapped_column(Integer, default=0)  # changes delivered so far

    __table_args__ = (
        Index("ix_action_plans_alert", "alert_id"),
        Index("ix_action_plans_account", "account_id", "status"),
    )


class PlanNote(Base):
    """One progress note on a plan: when, by whom (as the caller says, or the key's id), what."""

    __tablename__ = "action_plan_notes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("action_plans.plan_id", ondelete="CASCADE"))
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(256))
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_action_plan_notes_plan", "plan_id", "at"),)
