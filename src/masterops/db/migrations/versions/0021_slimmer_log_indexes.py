"""Drop the single-column ``created_at`` indexes of ``integration_logs`` and
``api_metrics``: each is the leading column of the covering index migration 0015 added
(``created_at, source, level`` and ``created_at, service, endpoint, duration_ms,
success``), which serves every query the short one did (prune, the rollup rebuild's
day, ``ops logs --since``, newest first) while every telemetry insert paid for both.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

DROPPED = (
    ("ix_integration_logs_created_at", "integration_logs"),
    ("ix_api_metrics_created_at", "api_metrics"),
)


def upgrade() -> None:
    for name, table in DROPPED:
        op.drop_index(name, table)


def downgrade() -> None:
    for name, table in DROPPED:
        op.create_index(name, table, ["created_at"])
