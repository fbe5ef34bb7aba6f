"""Hourly and daily rollups of api_metrics and integration_logs, and the two summary
views that read them (whole hours and days from the rollups, the first partial hour
from raw rows: see masterops.db.rollup_summaries). Existing raw rows are rolled up here.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

from masterops.db.migrations.rollup_ddl import create_rollup_table

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Frozen here: the histogram of db/latency_histogram.py when this revision was written.
HISTOGRAM_BUCKETS = 142
ROLLED_VIEWS = ("integration_health_summary", "api_performance_summary")

API_KEYS = (
    ("business_id", 64),
    ("service", 64),
    ("endpoint", 300),
    ("operation", 200),
    ("status_class", 8),
)
LOG_KEYS = (
    ("business_id", 64),
    ("source", 64),
    ("service", 64),
    ("operation", 200),
    ("level", 16),
)


def upgrade() -> None:
    from masterops.db import rollups
    from masterops.db.rollup_summaries import rolled_view_sql

    for grain in ("hourly", "daily"):
        create_rollup_table(f"api_metrics_{grain}", API_KEYS, HISTOGRAM_BUCKETS)
        create_rollup_table(f"integration_logs_{grain}", LOG_KEYS, HISTOGRAM_BUCKETS)
    bind = op.get_bind()
    dialect = bind.dialect.name
    for name in ROLLED_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
        op.execute(f"CREATE VIEW {name} AS {rolled_view_sql(name, dialect)}")
    # Roll up what is already there, in this transaction.
    for source in rollups.SOURCES.values():
        rollups.rebuild_in(bind, source)


def downgrade() -> None:
    from masterops.db.summaries import view_sql

    dialect = op.get_bind().dialect.name
    for name in ROLLED_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
        op.execute(f"CREATE VIEW {name} AS {view_sql(name, dialect)}")
    for grain in ("daily", "hourly"):
        op.drop_table(f"integration_logs_{grain}")
        op.drop_table(f"api_metrics_{grain}")
