"""reporting views for BI tools: read-only ``report_*`` views on PostgreSQL

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 11:00:00

The views (docs/operations.md, "Reporting views for BI tools") let Metabase or Superset read accounts,
role head counts, role positions, alerts and answer counts without knowing the tables or the layout
of the model's JSON document. They hold no data of their own, so an erasure or a retention sweep that
cleans the tables cleans them too; they select no person's name, no comment, no note and no one who
acknowledged or resolved an alert.

PostgreSQL only: on SQLite, the single-file store of development and demos that no BI server shares,
this revision does nothing. A later revision that alters a column one of these views reads must drop
the view first and create it again (PostgreSQL refuses to change the type of a column a view uses).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The documents' times are ISO 8601 text with an offset and their positions JSON numbers: cast once here.
VIEWS: dict[str, str] = {
    "report_accounts": """
        SELECT a.account_id,
               a.name AS account_name,
               a.segment,
               a.renewal_date,
               a.annual_value,
               a.first_seen_at,
               a.last_event_at,
               m.as_of AS model_as_of,
               m.account_mean,
               m.divergence,
               m.nps,
               m.risk,
               m.risk * a.annual_value AS value_at_risk
          FROM accounts a
          LEFT JOIN account_models m ON m.account_id = a.account_id
    """,
    "report_role_headcounts": """
        SELECT account_id,
               side,
               role,
               count(*) AS people,
               count(*) FILTER (WHERE decision_maker IS TRUE) AS marked_decision_makers,
               count(*) FILTER (WHERE decision_maker IS FALSE) AS marked_not_decision_makers,
               count(*) FILTER (WHERE contactable IS FALSE) AS not_contactable
          FROM stakeholders
         GROUP BY account_id, side, role
    """,
    "report_role_position_history": """
        SELECT m.account_id,
               r.key AS role,
               (p.value ->> 0)::timestamptz AS at,
               (p.value ->> 1)::double precision AS position
          FROM account_models m
         CROSS JOIN LATERAL json_each(m.document -> 'role_series') AS r
         CROSS JOIN LATERAL json_array_elements(r.value) AS p
    """,
    "report_role_positions": """
        SELECT m.account_id,
               r.key AS role,
               (r.value -> -1 ->> 0)::timestamptz AS at,
               (r.value -> -1 ->> 1)::double precision AS position,
               m.as_of AS model_as_of
          FROM account_models m
         CROSS JOIN LATERAL json_each(m.document -> 'role_series') AS r
         WHERE json_array_length(r.value) > 0
    """,
    "report_alerts": """
        SELECT alert_id,
               account_id,
               type,
               severity,
               status,
               active,
               opened_as_of,
               closed_as_of,
               (record ->> 'as_of')::timestamptz AS as_of,
               created_at,
               updated_at,
               acknowledged_at,
               resolved_at,
               record -> 'metrics' ->> 'role' AS role,
               record -> 'metrics' ->> 'high_role' AS high_role,
               record -> 'metrics' ->> 'low_role' AS low_role,
               (record -> 'metrics' ->> 'divergence')::double precision AS divergence,
               (record -> 'metrics' ->> 'divergence_se')::double precision AS divergence_se,
               (record -> 'metrics' ->> 'account_mean')::double precision AS account_mean,
               (record -> 'metrics' ->> 'risk')::double precision AS risk
          FROM alerts
    """,
    "report_answer_counts": """
        SELECT r.account_id,
               coalesce(s.role, 'unassigned') AS role,
               count(*) AS answers,
               count(*) FILTER (WHERE r.comment IS NOT NULL AND r.comment <> '') AS comments,
               max(r.occurred_at) AS last_answer_at
          FROM responses r
          LEFT JOIN stakeholders s ON s.account_id = r.account_id AND s.stakeholder_id = r.stakeholder_id
         WHERE r.is_current
         GROUP BY r.account_id, coalesce(s.role, 'unassigned')
    """,
}


def _postgresql() -> bool:
    # get_context, not get_bind: it also answers in offline mode (``alembic upgrade --sql``).
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    """Create the reporting views (PostgreSQL only: SQLite serves no BI tool, see the module docstring)."""
    if not _postgresql():
        return
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query.strip()}")
        op.execute(f"COMMENT ON VIEW {name} IS 'read-only reporting view, docs/operations.md (revision 0015)'")


def downgrade() -> None:
    """Drop the reporting views."""
    if not _postgresql():
        return
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
