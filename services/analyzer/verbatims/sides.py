"""``themes_by_side`` for the account view and the split alerts, read from the current comments.

Computed when the account or the alert is read, not when the alert was raised: the alert record in the
database, on Kafka and in webhooks stays as the model made it (docs/model.md, "Verbatims").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.db.models import AlertRow
from services.analyzer.verbatims import repository
from services.analyzer.verbatims.schemas import ThemesBySide, themes_by_side
from services.analyzer.verbatims.summary import by_role

# The alerts about the split between two client roles; their metrics name the high and the low role.
SPLIT_ALERTS: Final = frozenset({"stakeholder_divergence", "divergence_widening", "masked_by_average"})


async def side_themes(session: AsyncSession, account_id: str, high_role: str, low_role: str) -> ThemesBySide:
    """What the account's ``high_role`` and ``low_role`` talk about."""
    found = (await repository.comments(session, [account_id])).get(account_id, [])
    return themes_by_side(by_role(found, quotes=0), high_role, low_role)


def _split_roles(row: AlertRow) -> tuple[str, str] | None:
    metrics: Any = row.record.get("metrics") if row.type in SPLIT_ALERTS else None
    if not isinstance(metrics, dict):
        return None
    high, low = metrics.get("high_role"), metrics.get("low_role")
    return (high, low) if isinstance(high, str) and isinstance(low, str) else None


async def alert_side_themes(session: AsyncSession, rows: Sequence[AlertRow]) -> dict[str, ThemesBySide]:
    """``themes_by_side`` per alert id, for the split alerts among ``rows`` (one query for all their accounts)."""
    splits = {row.alert_id: (row.account_id, pair) for row in rows if (pair := _split_roles(row)) is not None}
    found = await repository.comments(session, {account_id for account_id, _ in splits.values()})
    roles = {account_id: by_role(comments, quotes=0) for account_id, comments in found.items()}
    return {
        alert_id: themes_by_side(roles.get(account_id, []), high, low)
        for alert_id, (account_id, (high, low)) in splits.items()
    }
