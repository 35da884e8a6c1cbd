"""renewal risk: who decides a renewal, and each account's risk

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


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_account_models_risk"), table_name="account_models")
    with op.batch_alter_table("account_models") as batch:
        batch.drop_column("risk")
    with op.batch_alter_table("stakeholders") as batch:
        batch.drop_column("decision_maker")
