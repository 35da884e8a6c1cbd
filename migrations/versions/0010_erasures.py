"""erasures: the record of every person erased (when, by which key, hashes of their ids; no personal data)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "erasures",
        sa.Column("erasure_id", sa.String(40), primary_key=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_by", sa.String(128), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
    )
    # One row per id the person was known by: the analyzer skips any record published before the
    # erasure that names one of them (a replay, a rebuild, an event still in flight).
    op.create_table(
        "erasure_subjects",
        sa.Column("subject_hash", sa.String(64), primary_key=True),
        sa.Column(
            "erasure_id",
            sa.String(40),
            sa.ForeignKey("erasures.erasure_id", name="fk_erasure_subjects_erasure_id_erasures"),
            primary_key=True,
        ),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("erasure_subjects")
    op.drop_table("erasures")
