"""The public shape of an erasure (docs/api.md, "Erasure")."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ErasureView(BaseModel):
    """What an erasure removed. It names no person: the record is kept after they are gone."""

    erasure_id: str = Field(description="the erasure record's id")
    erased_at: datetime
    erased_by: str = Field(description="the id of the API key that asked (never the key itself)")
    accounts: list[str] = Field(description="the accounts the person belonged to, recomputed without them")
    counts: dict[str, int] = Field(
        description=(
            "rows deleted (people, answers, aliases, unattributed), journey moments detached (moments), "
            "rows redacted (redacted_alerts, redacted_moments, redacted_outbox, redacted_deliveries) "
            "and data keys destroyed on Kafka (keys_destroyed)"
        )
    )
