"""The customer and sales-order mirror.

``customers`` mirrors Unleashed customers with the HubSpot contact each became;
``orders`` and ``order_lines`` mirror Unleashed sales orders with the HubSpot deal and
line items they became. Keys are Unleashed ids, so every write is an idempotent upsert.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("customers", "orders", "order_lines")


def _at(name: str, *, required: bool = False) -> sa.Column[object]:
    if required:
        return sa.Column(name, UTCDateTime(), nullable=False, server_default=sa.func.now())
    return sa.Column(name, UTCDateTime())


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("unleashed_guid", sa.String(64), primary_key=True),
        sa.Column("customer_code", sa.String(100), nullable=False),
        sa.Column("customer_name", sa.String(300)),
        sa.Column("email", sa.String(320)),
        sa.Column("first_name", sa.String(200)),
        sa.Column("last_name", sa.String(200)),
        sa.Column("currency", sa.String(8)),
        sa.Column("obsolete", sa.Boolean, nullable=False),
        _at("unleashed_modified_at"),
        sa.Column("hubspot_id", sa.String(64)),
        _at("hubspot_synced_at"),
        _at("updated_at", required=True),
    )
    op.create_index(
        "ix_customers_business_id_customer_code", "customers", ["business_id", "customer_code"]
    )
    op.create_index("ix_customers_business_id_email", "customers", ["business_id", "email"])
    op.create_table(
        "orders",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("unleashed_guid", sa.String(64), primary_key=True),
        sa.Column("order_number", sa.String(100), nullable=False),
        _at("order_date"),
        _at("required_date"),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("customer_guid", sa.String(64)),
        sa.Column("customer_code", sa.String(100)),
        sa.Column("warehouse_code", sa.String(64)),
        sa.Column("currency", sa.String(8)),
        sa.Column("sub_total", sa.Float),
        sa.Column("tax_total", sa.Float),
        sa.Column("total", sa.Float),
        _at("unleashed_modified_at"),
        sa.Column("hubspot_deal_id", sa.String(64)),
        _at("hubspot_synced_at"),
        _at("updated_at", required=True),
    )
    op.create_index("ix_orders_business_id_order_number", "orders", ["business_id", "order_number"])
    op.create_index("ix_orders_business_id_status", "orders", ["business_id", "status"])
    op.create_table(
        "order_lines",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("order_guid", sa.String(64), primary_key=True),
        sa.Column("line_number", sa.Integer, primary_key=True),
        sa.Column("line_guid", sa.String(64)),
        sa.Column("product_guid", sa.String(64)),
        sa.Column("product_code", sa.String(100)),
        sa.Column("quantity", sa.Float, nullable=False),
        sa.Column("unit_price", sa.Float),
        sa.Column("discount_rate", sa.Float),
        sa.Column("line_total", sa.Float),
        sa.Column("line_tax", sa.Float),
        sa.Column("hubspot_line_item_id", sa.String(64)),
        _at("updated_at", required=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
