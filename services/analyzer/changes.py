"""Recording who changed what: the calling key's id with every change made through the API or dashboard."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.change_models import ChangeRecord

log = logging.getLogger(__name__)


def record(session: AsyncSession, *, key_id: str, action: str, target: str) -> None:
    """Add a change record in the caller's transaction (kept only if the change commits), and log it."""
    session.add(ChangeRecord(at=datetime.now(UTC), key_id=key_id, action=action, target=target))
    log.info("change by API key", extra={"key_id": key_id, "action": action, "target": target})
