"""When each configured secret was first seen and last changed (``ops secrets check``,
the secret-age alert rule), and the rotations done with ``ops secrets rotate``.

Never a secret's value: ``fingerprint`` is the first 16 hex digits of an HMAC-SHA256 of
the value keyed by the variable's name, enough to notice that the value changed and
useless to recover it (the values are long random tokens).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secret_records",
        sa.Column("variable", sa.String(120), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("business_id", sa.String(64)),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("rotated_at", UTCDateTime()),
        sa.Column("rotated_by", sa.String(100)),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE secret_records ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("secret_records")
