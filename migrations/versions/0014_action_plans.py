"""action plans: what the supplier does about an alert, its progress notes, and the gap when it was made (issue 18)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-12 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "action_plans",
        sa.Column("plan_id", sa.String(length=40), nullable=False),
        sa.Column("alert_id", sa.String(length=80), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=256), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", name=op.f("pk_action_plans")),
    )
    op.create_index("ix_action_plans_alert", "action_plans", ["alert_id"])
    op.create_index("ix_action_plans_account", "action_plans", ["account_id", "status"])
    op.create_table(
        "action_plan_notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=256), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["action_plans.plan_id"],
            name=op.f("fk_action_plan_notes_plan_id_action_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_plan_notes")),
    )
    op.create_index("ix_action_plan_notes_plan", "action_plan_notes", ["plan_id", "at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_action_plan_notes_plan", table_name="action_plan_notes")
    op.drop_table("action_plan_notes")
    op.drop_index("ix_action_plans_account", table_name="action_plans")
    op.drop_index("ix_action_plans_alert", table_name="action_plans")
    op.drop_table("action_plans")
