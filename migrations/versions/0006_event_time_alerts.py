"""alerts in event time: when an alert closed, and what Kafka and webhooks were last told

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("closed_as_of", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("announced", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("notified", sa.String(length=24), nullable=True))
    # Alerts from before this revision were published and delivered at every change.
    op.execute(
        "UPDATE alerts SET announced = CASE WHEN active THEN 'open:' || severity ELSE 'resolved' END, "
        "notified = CASE WHEN active THEN 'open:' || severity ELSE 'resolved' END"
    )
    op.create_index("ix_alerts_pending", "alerts", ["active", "notified"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_alerts_pending", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("notified")
        batch.drop_column("announced")
        batch.drop_column("closed_as_of")
