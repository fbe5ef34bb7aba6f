"""Acknowledged alerts (quiet until their subject recovers) and the workers' heartbeats
(the "worker not seen" alert rule).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_acks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("business_id", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("alert_id", Id),
        sa.Column("note", sa.Text),
        sa.Column("acked_by", sa.String(100)),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("cleared_at", UTCDateTime()),
    )
    op.create_index(
        "ix_alert_acks_business_id_service_cleared_at",
        "alert_acks",
        ["business_id", "service", "cleared_at"],
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE alert_acks ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE worker_heartbeats ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
    op.drop_index("ix_alert_acks_business_id_service_cleared_at", table_name="alert_acks")
    op.drop_table("alert_acks")
