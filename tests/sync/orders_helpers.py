"""The orders sync's test rig: the inventory rig (both sandboxes in-process on one
runtime), plus readers of what the orders sync stored and of what HubSpot holds."""

from __future__ import annotations

from typing import Any

from inventory_helpers import BUSINESS, InventoryRig
from sqlalchemy import Engine, insert, select

from masterops.db.tables import customers, order_lines, orders, sync_runs, sync_state
from masterops.sync.orders_hubspot import LINE_GUID_PROPERTY, ORDER_GUID_PROPERTY
from masterops_sandbox.unleashed.records import SalesOrder as SandboxOrder


def stored_orders(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(orders).where(orders.c.business_id == BUSINESS))
        return {r.unleashed_guid: dict(r._mapping) for r in rows}


def stored_lines(engine: Engine) -> dict[tuple[str, int], dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(order_lines).where(order_lines.c.business_id == BUSINESS))
        return {(r.order_guid, r.line_number): dict(r._mapping) for r in rows}


def watermark(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(sync_state.c.watermark).where(
                sync_state.c.business_id == BUSINESS, sync_state.c.entity == "orders"
            )
        ).scalar()


def runs(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(sync_runs).where(sync_runs.c.entity == "orders").order_by(sync_runs.c.id)
        )
        return [dict(r._mapping) for r in rows]


def sandbox_orders(rig: InventoryRig) -> list[SandboxOrder]:
    return rig.unleashed_sandbox.orders(BUSINESS)


def expected_lines(rig: InventoryRig) -> set[tuple[str, int]]:
    return {(o.guid.lower(), line.line_number) for o in sandbox_orders(rig) for line in o.lines}


def dealt_orders(rig: InventoryRig) -> list[SandboxOrder]:
    """The orders that should be deals: Deleted ones never sent are left out."""
    return [o for o in sandbox_orders(rig) if o.status != "Deleted"]


def deals(rig: InventoryRig) -> list[dict[str, Any]]:
    return rig.hubspot_sandbox.records(BUSINESS, "deals")


def line_items(rig: InventoryRig) -> list[dict[str, Any]]:
    return rig.hubspot_sandbox.records(BUSINESS, "line_items")


def deal_of(rig: InventoryRig, order: SandboxOrder) -> dict[str, Any] | None:
    return rig.hubspot_sandbox.find(BUSINESS, "deals", ORDER_GUID_PROPERTY, order.guid.lower())


def line_item_of(rig: InventoryRig, line_guid: str) -> dict[str, Any] | None:
    return rig.hubspot_sandbox.find(BUSINESS, "line_items", LINE_GUID_PROPERTY, line_guid.lower())


def linked(rig: InventoryRig, deal_id: str, to_type: str) -> set[str]:
    return set(rig.hubspot_sandbox.associated_ids(BUSINESS, "deals", deal_id, to_type))


def make_contacts(rig: InventoryRig, engine: Engine) -> dict[str, str]:
    """What the customers sync would leave: each customer a HubSpot contact and a
    ``customers`` row holding its id. Returns contact id by customer Guid."""
    ids: dict[str, str] = {}
    rows = []
    for customer in rig.unleashed_sandbox.customers(BUSINESS):
        contact_id = rig.hubspot_sandbox.create(
            BUSINESS, "contacts", {"email": f"{customer.code.lower()}@example.com"}
        )
        ids[customer.guid.lower()] = contact_id
        rows.append(
            {
                "business_id": BUSINESS,
                "unleashed_guid": customer.guid.lower(),
                "customer_code": customer.code,
                "customer_name": customer.name,
                "obsolete": customer.obsolete,
                "hubspot_id": contact_id,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(customers), rows)
    return ids
