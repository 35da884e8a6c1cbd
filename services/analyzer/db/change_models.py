"""The change log: which API key made each change through the API or the dashboard (docs/security.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from services.analyzer.db.base import Base, BigIntPK


class ChangeRecord(Base):
    """One change: when, by which key (its id, never its secret), what was done and to what."""

    __tablename__ = "api_changes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(48))  # e.g. alert.acknowledge, subscription.delete
    target: Mapped[str] = mapped_column(String(256))  # the alert, subscription or person changed
