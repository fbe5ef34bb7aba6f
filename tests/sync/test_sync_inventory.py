"""``sync_inventory``: full and incremental runs against the Unleashed and HubSpot
sandboxes, on every database backend."""

from __future__ import annotations

from datetime import datetime

from inventory_helpers import (
    BUSINESS,
    PAGE_SIZE,
    expected_stock_keys,
    inventory_rig,
    runs,
    stored_products,
    stored_stock,
    watermark,
)
from sqlalchemy import Engine

from masterops.integrations.unleashed import Product, StockOnHand
from masterops.sync.inventory import KIND, _store_products, _store_stock, sync_inventory
from masterops.sync.inventory_hubspot import GUID_PROPERTY, product_properties
from masterops.sync.runs import SyncResult, Tally


async def test_full_sync_stores_everything_once_and_creates_hubspot_products(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        progress: list[tuple[str, int, int | None]] = []
        result = await sync_inventory(
            rig.unleashed(),
            engine,
            business_id=BUSINESS,
            hubspot=rig.hubspot(),
            full=True,
            page_size=PAGE_SIZE,
            on_progress=lambda stage, done, total: progress.append((stage, done, total)),
        )

        catalogue = rig.unleashed_sandbox.products(BUSINESS)
        sellable = [p for p in catalogue if not p.is_obsolete]
        obsolete = [p for p in catalogue if p.is_obsolete]
        assert obsolete, "the seed should hold obsolete products"
        stored = stored_products(engine)
        assert set(stored) == {p.guid.lower() for p in catalogue}
        assert set(stored_stock(engine)) == expected_stock_keys(rig.unleashed_sandbox)

        assert isinstance(result, SyncResult) and result.entity == "inventory"
        assert result.status == "succeeded" and result.ok
        assert (
            result.counts["products_fetched"] == result.counts["products_written"] == len(catalogue)
        )
        assert result.counts["stock_written"] == len(rig.unleashed_sandbox.stock(BUSINESS))
        assert (
            result.counts["hubspot_upserted"] == result.counts["hubspot_created"] == len(sellable)
        )
        assert result.counts["hubspot_failed"] == 0
        assert result.watermark_before is None
        assert result.watermark_after is not None
        assert datetime.fromisoformat(result.watermark_after).tzinfo is not None
        assert watermark(engine) == result.watermark_after

        hubspot = rig.hubspot_products()
        assert len(hubspot) == len(sellable)
        for product in sellable:
            found = rig.hubspot_sandbox.find(
                BUSINESS, "products", GUID_PROPERTY, product.guid.lower()
            )
            assert found is not None
            assert found["properties"]["hs_sku"] == product.code
            assert float(found["properties"]["price"]) == product.sell_price
            assert found["properties"]["name"] == product.description
            assert stored[product.guid.lower()]["hubspot_id"] == str(found["id"])
            assert stored[product.guid.lower()]["hubspot_synced_at"] is not None
        for product in obsolete:
            row = stored[product.guid.lower()]
            assert row["is_obsolete"] is True
            assert row["hubspot_id"] is None
            assert (
                rig.hubspot_sandbox.find(BUSINESS, "products", GUID_PROPERTY, product.guid.lower())
                is None
            )

        [run] = runs(engine)
        assert run["id"] == result.run_id
        assert run["status"] == "succeeded"
        assert run["watermark_after"] == result.watermark_after
        assert run["written"] == result.counts["products_written"] + result.counts["stock_written"]

        # Progress: every stage reported, each ending at its total.
        last = {stage: (done, total) for stage, done, total in progress}
        assert last == {
            "products": (len(catalogue), len(catalogue)),
            "stock": (result.counts["stock_fetched"], result.counts["stock_fetched"]),
            "hubspot": (len(sellable), len(sellable)),
        }

        summaries = [e for e in rig.recorder.logs if e.operation == "sync_inventory"]
        assert [(e.source, e.service, e.level) for e in summaries] == [
            ("sync", "unleashed", "info")
        ]
        assert summaries[0].details["products_written"] == len(catalogue)


async def test_incremental_run_writes_only_what_changed(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        first = await sync_inventory(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
        )
        sellable = [p for p in rig.unleashed_sandbox.products(BUSINESS) if not p.is_obsolete]
        changed, restocked = sellable[0], sellable[1]
        rig.unleashed_sandbox.update_product(
            BUSINESS, changed.code, description="Renamed Reishi 100g", sell_price=42.5
        )
        rig.unleashed_sandbox.set_stock(BUSINESS, restocked.code, qty_on_hand=777)
        hubspot_before = rig.hubspot_products()

        second = await sync_inventory(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
        )

        assert second.watermark_before == first.watermark_after
        assert second.counts["products_written"] == 1
        assert second.counts["stock_written"] == 1
        # The renamed product, and the restocked one: HubSpot carries stock on hand.
        assert (second.counts["hubspot_upserted"], second.counts["hubspot_created"]) == (2, 0)
        stored = stored_products(engine)
        assert stored[changed.guid.lower()]["description"] == "Renamed Reishi 100g"
        assert stored[changed.guid.lower()]["default_sell_price"] == 42.5
        default = rig.unleashed_sandbox.store(BUSINESS).default_warehouse().code
        assert stored_stock(engine)[(restocked.guid.lower(), default)]["qty_on_hand"] == 777

        # Updated in place, not duplicated.
        assert len(rig.hubspot_products()) == len(hubspot_before)
        found = rig.hubspot_sandbox.find(BUSINESS, "products", GUID_PROPERTY, changed.guid.lower())
        assert found is not None
        assert found["properties"]["name"] == "Renamed Reishi 100g"
        assert float(found["properties"]["price"]) == 42.5
        assert str(found["id"]) == stored[changed.guid.lower()]["hubspot_id"]
        assert [r["status"] for r in runs(engine)] == ["succeeded", "succeeded"]


async def test_without_hubspot_only_the_database_is_written(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed = rig.unleashed()
        result = await sync_inventory(unleashed, engine, business_id=BUSINESS)

        assert not result.hubspot_enabled
        assert (result.counts["hubspot_upserted"], result.counts["hubspot_failed"]) == (0, 0)
        assert len(stored_products(engine)) == len(rig.unleashed_sandbox.products(BUSINESS))
        assert rig.hubspot_harness.call_count() == 0
        assert all(row["hubspot_id"] is None for row in stored_products(engine).values())

        # A later run with HubSpot sends the products never sent, though Unleashed has
        # nothing new: what HubSpot lacks is read from the database, not from the fetch.
        later = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=rig.hubspot())
        sellable = [p for p in rig.unleashed_sandbox.products(BUSINESS) if not p.is_obsolete]
        assert later.counts["products_written"] == 0
        assert later.counts["hubspot_created"] == len(sellable)
        assert len(rig.hubspot_products()) == len(sellable)


async def test_a_product_turned_obsolete_is_stored_but_not_sent(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        product = next(p for p in rig.unleashed_sandbox.products(BUSINESS) if not p.is_obsolete)
        rig.unleashed_sandbox.update_product(BUSINESS, product.code, is_obsolete=True)

        result = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert result.counts["products_written"] == 1
        assert result.counts["hubspot_upserted"] == 0
        assert stored_products(engine)[product.guid.lower()]["is_obsolete"] is True


def test_product_properties_use_code_when_there_is_no_description() -> None:
    row = {
        "unleashed_guid": "0a1b",
        "product_code": "TLX-1",
        "description": None,
        "default_sell_price": 30.0,
    }
    assert product_properties(row) == {
        GUID_PROPERTY: "0a1b",
        "name": "TLX-1",
        "hs_sku": "TLX-1",
        "description": "",
        "price": "30",
    }
    assert product_properties({**row, "default_sell_price": 12.95})["price"] == "12.95"
    assert "price" not in product_properties({**row, "default_sell_price": None})


def test_a_guid_twice_in_one_page_is_stored_once(engine: Engine) -> None:
    # Records can move between pages while a walk runs, and Unleashed spells Guids in
    # either case; PostgreSQL refuses one ON CONFLICT statement touching a row twice.
    guid = "5D1E1C0A-1111-4222-8333-944455556666"
    older = Product(guid=guid, product_code="TLX-9", product_description="Old")
    newer = Product(guid=guid.lower(), product_code="TLX-9", product_description="New")
    line = StockOnHand(product_guid=guid, product_code="TLX-9", warehouse_code="W1")
    tally = Tally(KIND, "products")

    with engine.begin() as conn:
        _store_products(conn, BUSINESS, [older, newer], tally, set())
    stock = [line, line.model_copy(update={"qty_on_hand": 3.0})]
    with engine.begin() as conn:
        _store_stock(conn, BUSINESS, stock, tally, set())

    assert stored_products(engine)[guid.lower()]["description"] == "New"
    assert stored_stock(engine)[(guid.lower(), "W1")]["qty_on_hand"] == 3.0
    assert (tally["products_fetched"], tally["products_written"]) == (2, 1)
    assert (tally["stock_fetched"], tally["stock_written"]) == (2, 1)
