"""The shape of a rollup table as the migrations create it (0016, 0020): frozen here,
apart from the live tables.py, so an old revision still creates what it created."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime


def create_rollup_table(name: str, keys: Sequence[tuple[str, int]], buckets: int) -> None:
    """``period_start`` and the ``keys`` (name, length) as the primary key, the counters,
    the extremes, ``last_at`` and ``buckets`` histogram counters ``h000`` ..."""
    op.create_table(
        name,
        sa.Column("period_start", UTCDateTime(), nullable=False),
        *(sa.Column(key, sa.String(length), nullable=False) for key, length in keys),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("duration_count", sa.BigInteger(), nullable=False),
        sa.Column("duration_sum", sa.Float(), nullable=False),
        sa.Column("duration_min", sa.Float()),
        sa.Column("duration_max", sa.Float()),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        *(sa.Column(f"h{i:03d}", sa.Integer(), nullable=False) for i in range(buckets)),
        sa.PrimaryKeyConstraint("period_start", *(k for k, _ in keys), name=f"pk_{name}"),
    )
