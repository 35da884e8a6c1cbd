"""The bodies of ``/v1/alerts``: the public alert record and the change a person makes to an alert."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AlertChange(BaseModel):
    """Body of acknowledge and resolve."""

    by: str | None = Field(
        default=None, min_length=1, max_length=256, description="who made the change; absent: the API key's id"
    )
    note: str | None = Field(default=None, max_length=4000)
