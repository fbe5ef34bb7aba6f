"""Who holds each (business, entity) sync lock, and since when.

The lock itself is not this table: on PostgreSQL it is a session advisory lock (it dies
with its session, so a holder killed with -9 frees it at once); on SQLite it is an
``flock`` on a file beside the database (the kernel frees it when the process dies).
This table only says who took it, so that a second run can name the holder.

Revision ID: 0011
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_locks",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(300), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE sync_locks ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("sync_locks")
