"""api changes: the id of the API key that made each change

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "api_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("target", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_changes")),
    )
    with op.batch_alter_table("api_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_changes_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_changes_key_id"), ["key_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("api_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_changes_key_id"))
        batch_op.drop_index(batch_op.f("ix_api_changes_at"))
    op.drop_table("api_changes")
