"""unverified answers: vendor answers whose respondent only editable survey-link parameters name

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "unverified_answers",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("response_key", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("account_id", sa.String(length=128), nullable=True),
        sa.Column("stakeholder_id", sa.String(length=256), nullable=True),
        sa.Column("known", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_unverified_answers")),
    )
    op.create_index(op.f("ix_unverified_answers_account_id"), "unverified_answers", ["account_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_unverified_answers_account_id"), table_name="unverified_answers")
    op.drop_table("unverified_answers")
