"""The scheduled reports' deliveries: one row per (business, kind, period), claimed before
a report is sent, so several workers send each report once.

Revision ID: 0014
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_deliveries",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("period", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("channels", sa.String(100)),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("business_id", "kind", "period", name="pk_report_deliveries"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE report_deliveries ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("report_deliveries")
