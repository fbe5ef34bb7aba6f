"""Sync bookkeeping and the inventory mirror.

``sync_state`` keeps each (business, entity) sync's watermark, so a sync that was killed
resumes where its last committed page left it. ``sync_runs`` records every run and its
counts. ``products`` and ``stock_levels`` mirror Unleashed, keyed by Unleashed ids, with
the HubSpot id each product was given.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import JSONType, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = ("sync_state", "sync_runs", "products", "stock_levels")


def _at(name: str, *, required: bool = True) -> sa.Column[object]:
    if required:
        return sa.Column(name, UTCDateTime(), nullable=False, server_default=sa.func.now())
    return sa.Column(name, UTCDateTime())


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("entity", sa.String(64), primary_key=True),
        sa.Column("watermark", sa.String(200)),
        sa.Column("details_json", JSONType),
        _at("updated_at"),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("business_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("full", sa.Boolean, nullable=False),
        sa.Column("fetched", sa.Integer, nullable=False),
        sa.Column("written", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("watermark_before", sa.String(200)),
        sa.Column("watermark_after", sa.String(200)),
        sa.Column("error_message", sa.Text),
        sa.Column("details_json", JSONType),
        _at("started_at"),
        _at("finished_at", required=False),
    )
    op.create_index(
        "ix_sync_runs_business_id_entity_started_at",
        "sync_runs",
        ["business_id", "entity", "started_at"],
    )
    op.create_table(
        "products",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("unleashed_guid", sa.String(64), primary_key=True),
        sa.Column("product_code", sa.String(100), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("barcode", sa.String(100)),
        sa.Column("default_sell_price", sa.Float),
        sa.Column("product_group", sa.String(200)),
        sa.Column("is_obsolete", sa.Boolean, nullable=False),
        _at("unleashed_modified_at", required=False),
        sa.Column("hubspot_id", sa.String(64)),
        _at("hubspot_synced_at", required=False),
        _at("updated_at"),
    )
    op.create_index(
        "ix_products_business_id_product_code", "products", ["business_id", "product_code"]
    )
    op.create_table(
        "stock_levels",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("product_guid", sa.String(64), primary_key=True),
        sa.Column("warehouse_code", sa.String(64), primary_key=True),
        sa.Column("product_code", sa.String(100), nullable=False),
        sa.Column("qty_on_hand", sa.Float, nullable=False),
        sa.Column("allocated_qty", sa.Float, nullable=False),
        sa.Column("available_qty", sa.Float, nullable=False),
        sa.Column("on_purchase", sa.Float),
        sa.Column("avg_cost", sa.Float),
        sa.Column("total_cost", sa.Float),
        _at("unleashed_modified_at", required=False),
        _at("updated_at"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
