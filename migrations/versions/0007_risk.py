"""renewal risk: who decides a renewal, each account's risk, and the fitted risk models

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # NULL: the person decides as their role does by default (no one was flagged before this revision).
    with op.batch_alter_table("stakeholders") as batch:
        batch.add_column(sa.Column("decision_maker", sa.Boolean(), nullable=True))
    # NULL until the account's next evaluation (a state written by the earlier model is rebuilt then).
    with op.batch_alter_table("account_models") as batch:
        batch.add_column(sa.Column("risk", sa.Float(), nullable=True))
    op.create_index(op.f("ix_account_models_risk"), "account_models", ["risk"])
    # Every fit of the risk model (``feedback risk fit``), versioned; at most one is in use.
    op.create_table(
        "risk_models",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("intercept", sa.Float(), nullable=False),
        sa.Column("coefficients", sa.JSON(), nullable=False),
        sa.Column("prior_position", sa.Float(), nullable=False),
        sa.Column("prior_sd", sa.Float(), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("bad", sa.Integer(), nullable=False),
        sa.Column("validation", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("risk_models")
    op.drop_index(op.f("ix_account_models_risk"), table_name="account_models")
    with op.batch_alter_table("account_models") as batch:
        batch.drop_column("risk")
    with op.batch_alter_table("stakeholders") as batch:
        batch.drop_column("decision_maker")
