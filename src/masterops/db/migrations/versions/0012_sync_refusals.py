"""Why a sync run's items were refused: one row per refused item, kept with its run
(deleted with it: ``ON DELETE CASCADE``), so ``ops sync status``/``show`` and the API can
say why a sync failed without reading the logs.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sync_refusals",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            Id,
            sa.ForeignKey(
                "sync_runs.id", ondelete="CASCADE", name="fk_sync_refusals_run_id_sync_runs"
            ),
            nullable=False,
        ),
        sa.Column("business_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("item_kind", sa.String(32), nullable=False),
        sa.Column("item_key", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32)),
        sa.Column("status_code", sa.Integer()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_sync_refusals_run_id", "sync_refusals", ["run_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE sync_refusals ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_index("ix_sync_refusals_run_id", table_name="sync_refusals")
    op.drop_table("sync_refusals")
