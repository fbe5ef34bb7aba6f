"""The summary views, one SQL per dialect (see masterops.db.summaries).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from masterops.db.summaries import SUMMARIES, view_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in SUMMARIES:
        op.execute(f"CREATE VIEW {name} AS {view_sql(name, dialect)}")


def downgrade() -> None:
    for name in SUMMARIES:
        op.execute(f"DROP VIEW IF EXISTS {name}")
