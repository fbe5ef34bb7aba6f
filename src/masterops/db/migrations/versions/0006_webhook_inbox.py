"""The webhook inbox: every event a webhook receiver accepted, until it is processed.

``ops serve`` stores each delivery's events here in one transaction and answers at
once; processing happens elsewhere (a job reads the pending rows). ``UNIQUE(source,
event_id)`` is what makes a redelivery of the same event a no-op rather than a duplicate.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import JSONType, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_inbox",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("business_id", sa.String(64)),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("subscription_type", sa.String(128)),
        sa.Column("object_id", sa.String(64)),
        sa.Column("occurred_at", UTCDateTime()),
        sa.Column("payload_json", JSONType, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("processed_at", UTCDateTime()),
        sa.UniqueConstraint("source", "event_id", name="uq_webhook_inbox_source_event_id"),
    )
    op.create_index(
        "ix_webhook_inbox_status_received_at", "webhook_inbox", ["status", "received_at"]
    )
    op.create_index("ix_webhook_inbox_received_at", "webhook_inbox", ["received_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE webhook_inbox ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("webhook_inbox")
