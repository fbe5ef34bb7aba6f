"""What each order was last linked with in HubSpot, and the lines Unleashed dropped.

An order's deal is linked to its customer's contact (and company) and its line items name
their product; those ids can appear or change after the order was sent (the customers or
inventory sync ran later, an email changed, an object was recreated). Recording the ids an
order was last reconciled with lets the orders sync find the orders whose links are out of
date without the order itself changing.

``dropped_order_lines`` keeps the Guid of every line an order lost in Unleashed until its
HubSpot line item is archived (the ``order_lines`` row is gone by then).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("hubspot_contact_link", sa.String(64)))
        batch.add_column(sa.Column("hubspot_company_link", sa.String(64)))
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("hubspot_product_link", sa.String(64)))
    op.create_table(
        "dropped_order_lines",
        sa.Column("business_id", sa.String(64), primary_key=True),
        sa.Column("line_guid", sa.String(100), primary_key=True),
        sa.Column("order_guid", sa.String(64), nullable=False),
        sa.Column("hubspot_line_item_id", sa.String(64)),
        sa.Column("dropped_at", UTCDateTime(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE dropped_order_lines ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_table("dropped_order_lines")
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("hubspot_product_link")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("hubspot_company_link")
        batch.drop_column("hubspot_contact_link")
