"""The audit trail on both databases: who changed what in every domain and control table.

PostgreSQL already had ``audit_log`` (0003) filled by a row trigger on two tables with the
connecting role as "who". It gains ``db_role``, statement-level triggers on every audited
table (``db/audit_ddl.py``) that record the actor the platform names per transaction, and
a guard that makes it append-only. The summary views become ``security_invoker`` (15+) so
that a reader's Row Level Security applies through them. SQLite gets the same table,
row-level triggers and guard.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db import audit_ddl
from masterops.db.summaries import SUMMARIES
from masterops.db.types import JSONType, UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INDEXES = {
    "ix_audit_log_changed_at": ["changed_at"],
    "ix_audit_log_table_name_changed_at": ["table_name", "changed_at"],
}
# 0003's row trigger, restored by the downgrade.
OLD_FUNCTION = (
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


def _security_invoker(on: bool) -> None:
    bind = op.get_bind()
    if int(bind.exec_driver_sql("SHOW server_version_num").scalar() or 0) < 150000:
        return  # before 15 a view always runs as its owner; docs/security.md says so
    for name in SUMMARIES:
        op.execute(f"ALTER VIEW {name} SET (security_invoker = {'true' if on else 'false'})")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_log ADD COLUMN db_role TEXT")
        for table in ("businesses", "tasks"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_audit ON {table}")
        op.execute("DROP FUNCTION IF EXISTS masterops_audit()")
        _security_invoker(True)
    else:
        op.create_table(
            "audit_log",
            sa.Column("id", Id, primary_key=True, autoincrement=True),
            sa.Column("table_name", sa.Text, nullable=False),
            sa.Column("operation", sa.Text, nullable=False),
            sa.Column("row_id", sa.Text),
            sa.Column("old_row", JSONType),
            sa.Column("new_row", JSONType),
            sa.Column("changed_by", sa.Text, nullable=False),
            sa.Column("db_role", sa.Text),
            sa.Column("changed_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
        )
    for name, columns in INDEXES.items():
        op.create_index(name, "audit_log", columns)
    audit_ddl.install(bind)


def downgrade() -> None:
    bind = op.get_bind()
    audit_ddl.uninstall(bind)
    for name in INDEXES:
        op.drop_index(name, table_name="audit_log")
    if bind.dialect.name == "postgresql":
        _security_invoker(False)
        op.execute("ALTER TABLE audit_log DROP COLUMN db_role")
        op.execute(OLD_FUNCTION)
        for table in ("businesses", "tasks"):
            op.execute(
                f"CREATE TRIGGER {table}_audit AFTER INSERT OR UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION masterops_audit()"
            )
    else:
        op.drop_table("audit_log")
