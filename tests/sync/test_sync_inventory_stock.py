"""Stock on hand reaches HubSpot: each product carries the sum of its stock over the
warehouses, and a product whose stock changed is sent again though its own row did not
change. Against the Unleashed and HubSpot sandboxes, on every database backend."""

from __future__ import annotations

from inventory_helpers import BUSINESS, PAGE_SIZE, inventory_rig, stored_products
from sqlalchemy import Engine

from masterops.sync.inventory import sync_inventory
from masterops.sync.inventory_hubspot import GUID_PROPERTY, STOCK_PROPERTY


def hubspot_stock(rig, guid: str) -> float:  # type: ignore[no-untyped-def]
    found = rig.hubspot_sandbox.find(BUSINESS, "products", GUID_PROPERTY, guid.lower())
    assert found is not None
    return float(found["properties"][STOCK_PROPERTY])


async def test_products_carry_their_stock_summed_over_warehouses(engine: Engine) -> None:
    async with inventory_rig() as rig:
        sandbox = rig.unleashed_sandbox
        sellable = [p for p in sandbox.products(BUSINESS) if not p.is_obsolete]
        warehouses = sandbox.store(BUSINESS).warehouses
        assert len(warehouses) > 1, "the seed should hold several warehouses"
        spread = sellable[0]
        for number, warehouse in enumerate(warehouses, start=1):
            sandbox.set_stock(BUSINESS, spread.code, warehouse.code, qty_on_hand=10.5 * number)

        hubspot = rig.hubspot()
        await sync_inventory(
            rig.unleashed(), engine, business_id=BUSINESS, hubspot=hubspot, full=True,
            page_size=PAGE_SIZE,
        )  # fmt: skip

        for product in sellable:
            expected = sum(line.qty_on_hand for line in sandbox.stock(BUSINESS, product.guid))
            assert hubspot_stock(rig, product.guid) == expected
        assert hubspot_stock(rig, spread.guid) == sum(
            10.5 * n for n in range(1, len(warehouses) + 1)
        )
        definition = await hubspot.get_property("products", STOCK_PROPERTY)
        assert (definition.type, definition.field_type) == ("number", "number")


async def test_a_stock_change_alone_makes_its_product_pending(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        sellable = [p for p in rig.unleashed_sandbox.products(BUSINESS) if not p.is_obsolete]
        restocked = sellable[1]
        before = stored_products(engine)[restocked.guid.lower()]
        rig.unleashed_sandbox.set_stock(BUSINESS, restocked.code, qty_on_hand=777)
        expected = sum(
            line.qty_on_hand for line in rig.unleashed_sandbox.stock(BUSINESS, restocked.guid)
        )

        second = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        # The product itself did not change in Unleashed: only its stock line was read.
        assert (second.counts["products_written"], second.counts["stock_written"]) == (0, 1)
        assert (second.counts["hubspot_upserted"], second.counts["hubspot_created"]) == (1, 0)
        assert hubspot_stock(rig, restocked.guid) == expected
        after = stored_products(engine)[restocked.guid.lower()]
        assert after["hubspot_id"] == before["hubspot_id"]
        assert after["hubspot_synced_at"] > before["hubspot_synced_at"]

        # Re-reading the same day's stock without a change sends nothing again.
        third = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        assert third.counts["stock_written"] == 1 and third.counts["hubspot_upserted"] == 0
