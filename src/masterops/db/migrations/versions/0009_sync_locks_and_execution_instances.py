"""Who holds each (business, entity) sync lock, and since when; and which n8n instance
each execution came from.

Execution ids are per n8n instance (each counts from 1): ``workflow_execution_logs`` is
unique on (instance, execution_id), no longer on the id alone. Rows imported before
have instance '' until the next executions sync claims them for its instance.

The lock itself is not this table: on PostgreSQL it is a session advisory lock (it dies
with its session, so a holder killed with -9 frees it at once); on SQLite it is an
``flock`` on a file beside the database (the kernel frees it when the process dies).
This table only says who took it, so that a second run can name the holder.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_locks",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(300), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE sync_locks ENABLE ROW LEVEL SECURITY")
    with _views_unchecked(), op.batch_alter_table("workflow_execution_logs") as batch:
        batch.add_column(sa.Column("instance", sa.String(300), nullable=False, server_default=""))
        batch.drop_constraint("uq_workflow_execution_logs_execution_id", type_="unique")
        batch.create_unique_constraint(
            "uq_workflow_execution_logs_instance_execution_id", ["instance", "execution_id"]
        )


@contextmanager
def _views_unchecked() -> Iterator[None]:
    """SQLite rebuilds the table (copy, drop, rename); since 3.26 a rename checks every
    view, and the views on this table would name a table that is briefly gone. The
    legacy rename leaves them alone; they name the table, which is back when they run."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA legacy_alter_table=ON")
    try:
        yield
    finally:
        if sqlite:
            op.execute("PRAGMA legacy_alter_table=OFF")


def downgrade() -> None:
    with _views_unchecked(), op.batch_alter_table("workflow_execution_logs") as batch:
        batch.drop_constraint("uq_workflow_execution_logs_instance_execution_id", type_="unique")
        batch.create_unique_constraint("uq_workflow_execution_logs_execution_id", ["execution_id"])
        batch.drop_column("instance")
    op.drop_table("sync_locks")
