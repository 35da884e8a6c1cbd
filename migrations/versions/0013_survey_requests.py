"""survey requests: whom the analyzer asked, when and why; contactable stakeholders (issue 18)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    # NULL: never said, so the person may be asked (no one was flagged before this revision).
    with op.batch_alter_table("stakeholders") as batch:
        batch.add_column(sa.Column("contactable", sa.Boolean(), nullable=True))
    op.create_table(
        "survey_requests",
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("stakeholder_id", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("decision_maker", sa.Boolean(), nullable=False),
        sa.Column("moment", sa.String(length=64), nullable=False),
        sa.Column("moment_event_id", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=512), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_survey_requests")),
    )
    op.create_index("ix_survey_requests_person", "survey_requests", ["account_id", "stakeholder_id", "created_at"])
    op.create_index("ix_survey_requests_account", "survey_requests", ["account_id", "created_at"])
    op.create_index("ix_survey_requests_status", "survey_requests", ["status", "expires_at"])
    op.create_table(
        "survey_request_rounds",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("last_round_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_survey_request_rounds")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("survey_request_rounds")
    op.drop_index("ix_survey_requests_status", table_name="survey_requests")
    op.drop_index("ix_survey_requests_account", table_name="survey_requests")
    op.drop_index("ix_survey_requests_person", table_name="survey_requests")
    op.drop_table("survey_requests")
    with op.batch_alter_table("stakeholders") as batch:
        batch.drop_column("contactable")
