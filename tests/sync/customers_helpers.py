"""The customer sync's test rig: the inventory rig (both sandboxes in-process, one
recorded runtime) plus readers of what the customer sync stored and sent."""

from __future__ import annotations

from typing import Any

from inventory_helpers import BUSINESS, InventoryRig, inventory_rig
from sqlalchemy import Engine, func, select

from masterops.db.tables import customers, sync_runs, sync_state
from masterops_sandbox.unleashed.records import Customer

__all__ = [
    "BUSINESS",
    "PAGE_SIZE",
    "InventoryRig",
    "contact",
    "contacts",
    "customer_count",
    "inventory_rig",
    "runs",
    "sendable",
    "stored_customers",
    "watermark",
]

# The rig's 60-record volume seeds 30 customers: three pages of 10.
PAGE_SIZE = 10


def stored_customers(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(customers).where(customers.c.business_id == BUSINESS))
        return {r.unleashed_guid: dict(r._mapping) for r in rows}


def customer_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(customers)).scalar_one())


def contacts(rig: InventoryRig) -> list[dict[str, Any]]:
    return rig.hubspot_sandbox.records(BUSINESS, "contacts")


def contact(rig: InventoryRig, email: str) -> dict[str, Any] | None:
    return rig.hubspot_sandbox.find(BUSINESS, "contacts", "email", email.lower())


def sendable(rig: InventoryRig) -> list[Customer]:
    """The seeded customers the sync should turn into contacts."""
    return [c for c in rig.unleashed_sandbox.customers(BUSINESS) if not c.obsolete and c.email]


def watermark(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(sync_state.c.watermark).where(
                sync_state.c.business_id == BUSINESS, sync_state.c.entity == "customers"
            )
        ).scalar()


def runs(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(sync_runs).where(sync_runs.c.entity == "customers").order_by(sync_runs.c.id)
        )
        return [dict(r._mapping) for r in rows]
