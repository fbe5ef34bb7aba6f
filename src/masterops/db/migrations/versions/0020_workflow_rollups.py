"""Hourly and daily rollups of workflow_execution_logs (by started_at), kept by triggers
(db/workflow_rollups.py), and the workflow summary view reading them like the other two
(whole hours and days from the rollups, the first partial hour from raw rows). Existing
executions are rolled up here.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from alembic import op

from masterops.db.migrations.rollup_ddl import create_rollup_table

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# Frozen here: the histogram of db/latency_histogram.py when this revision was written.
HISTOGRAM_BUCKETS = 142
VIEW = "workflow_performance_summary"
KEYS = (("workflow_id", 64), ("workflow_name", 300), ("status", 32))


def upgrade() -> None:
    from masterops.db import rollups, workflow_rollups
    from masterops.db.rollup_summaries import rolled_view_sql

    for grain in ("hourly", "daily"):
        create_rollup_table(f"workflow_executions_{grain}", KEYS, HISTOGRAM_BUCKETS)
    bind = op.get_bind()
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    op.execute(f"CREATE VIEW {VIEW} AS {rolled_view_sql(VIEW, bind.dialect.name)}")
    # Roll up what is there, then keep it: one transaction, so no row falls in between.
    rollups.rebuild_in(bind, rollups.WORKFLOW_EXECUTIONS)
    workflow_rollups.install(bind)


def downgrade() -> None:
    from masterops.db import workflow_rollups
    from masterops.db.summaries import view_sql

    bind = op.get_bind()
    workflow_rollups.uninstall(bind)
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    op.execute(f"CREATE VIEW {VIEW} AS {view_sql(VIEW, bind.dialect.name)}")
    for grain in ("daily", "hourly"):
        op.drop_table(f"workflow_executions_{grain}")
