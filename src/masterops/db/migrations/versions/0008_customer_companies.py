"""The HubSpot company a wholesale customer became.

Wholesale businesses sell to shops: each of their Unleashed customers becomes a HubSpot
company (with its contact and deals associated to it), recorded here beside the contact.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("hubspot_company_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("hubspot_company_id")
