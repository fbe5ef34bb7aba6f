"""PostgreSQL only: Row Level Security on every table, and an audit trail of data changes.

Supabase exposes the ``public`` schema through its REST API, so every table gets
RLS enabled with no policy for ``anon``: only the service role (which bypasses
RLS) and the table owner read and write. The audit trigger records every insert,
update and delete of the operator-edited tables. SQLite has neither; on SQLite
this step does nothing.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = (
    "businesses",
    "tasks",
    "task_logs",
    "integration_logs",
    "workflow_execution_logs",
    "api_metrics",
    "api_quota_usage",
)
AUDITED = ("businesses", "tasks")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE audit_log ("
        " id BIGSERIAL PRIMARY KEY, table_name TEXT NOT NULL, operation TEXT NOT NULL,"
        " row_id TEXT, old_row JSONB, new_row JSONB,"
        " changed_by TEXT NOT NULL DEFAULT current_user,"
        " changed_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    op.execute(
        "CREATE FUNCTION masterops_audit() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  INSERT INTO audit_log (table_name, operation, row_id, old_row, new_row)\n"
        "  VALUES (TG_TABLE_NAME, TG_OP,\n"
        "          COALESCE(to_jsonb(NEW) ->> 'id', to_jsonb(OLD) ->> 'id'),\n"
        "          CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,\n"
        "          CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    for table in AUDITED:
        op.execute(
            f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION masterops_audit()"
        )
    for table in (*TABLES, "audit_log"):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for table in AUDITED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_audit ON {table}")
    op.execute("DROP FUNCTION IF EXISTS masterops_audit()")
    op.execute("DROP TABLE IF EXISTS audit_log")
