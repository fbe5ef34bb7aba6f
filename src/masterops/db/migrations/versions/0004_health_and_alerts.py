"""Health check results and alert history.

``health_checks`` keeps one row per (business, service) per health round: the latest row
per pair is the "previous status" an alert compares against. ``alert_history`` keeps one
row per alert per channel, delivered or not: its latest row per pair is what the
operator was last told, which the cooldown and the recovery announcement rely on.

Like every table, both get Row Level Security on PostgreSQL (see 0003).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import JSONType, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "health_checks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("business_id", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("latency_ms", sa.Float),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("breaker", sa.String(16)),
        sa.Column("details_json", JSONType),
        _at("checked_at"),
    )
    op.create_index(
        "ix_health_checks_business_id_service_checked_at",
        "health_checks",
        ["business_id", "service", "checked_at"],
    )
    op.create_index("ix_health_checks_checked_at", "health_checks", ["checked_at"])
    op.create_table(
        "alert_history",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("business_id", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("previous_status", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("delivered", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
        _at("created_at"),
    )
    op.create_index("ix_alert_history_created_at", "alert_history", ["created_at"])
    # The cooldown reads the latest alert per (business, service) on every round.
    op.create_index(
        "ix_alert_history_business_id_service_created_at",
        "alert_history",
        ["business_id", "service", "created_at"],
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in ("health_checks", "alert_history"):
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("alert_history")
    op.drop_table("health_checks")
