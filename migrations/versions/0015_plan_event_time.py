"""action plans: the account's event time when a plan was done, so the backtest can count saves (issue 18)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-14 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("action_plans", sa.Column("completed_as_of", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("action_plans", "completed_as_of")
