"""Workers taken over (who recovered a silent worker's jobs, when, how many) and its
version and state in its heartbeat; the last committed page of each sync stage, so that
a sync killed mid-run resumes after it.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("worker_heartbeats") as batch:
        batch.add_column(sa.Column("version", sa.String(64)))
        batch.add_column(
            sa.Column("state", sa.String(16), nullable=False, server_default="running")
        )
        batch.add_column(sa.Column("taken_over_by", sa.String(200)))
        batch.add_column(sa.Column("taken_over_at", UTCDateTime()))
        batch.add_column(sa.Column("taken_over_jobs", sa.Integer))
    op.create_table(
        "sync_page_progress",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("stage", sa.String(64), primary_key=True),
        sa.Column("read_from", sa.String(200), nullable=False),
        sa.Column("page_size", sa.Integer, nullable=False),
        sa.Column("page", sa.Integer, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Column("walk_started", sa.String(200), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite")),
        sa.Column("updated_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE sync_page_progress ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("sync_page_progress")
    with op.batch_alter_table("worker_heartbeats") as batch:
        for column in ("taken_over_jobs", "taken_over_at", "taken_over_by", "state", "version"):
            batch.drop_column(column)
