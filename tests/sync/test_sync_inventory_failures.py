"""``sync_inventory`` when things break: a failed or interrupted run is recorded, keeps
the old watermark, and the rerun ends with everything stored exactly once."""

from __future__ import annotations

import pytest
from inventory_helpers import (
    BUSINESS,
    PAGE_SIZE,
    InventoryRig,
    expected_stock_keys,
    inventory_rig,
    row_count,
    runs,
    stored_products,
    stored_stock,
    watermark,
)
from sqlalchemy import Engine

from masterops.db.tables import products, stock_levels
from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.sync.inventory import sync_inventory


def assert_complete_once(rig: InventoryRig, engine: Engine) -> None:
    """Every product and stock line stored once; every sellable product in HubSpot once."""
    catalogue = rig.unleashed_sandbox.products(BUSINESS)
    sellable = {p.guid.lower() for p in catalogue if not p.is_obsolete}
    assert set(stored_products(engine)) == {p.guid.lower() for p in catalogue}
    assert row_count(engine, products) == len(catalogue)
    assert set(stored_stock(engine)) == expected_stock_keys(rig.unleashed_sandbox)
    assert row_count(engine, stock_levels) == len(rig.unleashed_sandbox.stock(BUSINESS))
    in_hubspot = [r["properties"]["unleashed_guid"] for r in rig.hubspot_products()]
    assert sorted(in_hubspot) == sorted(sellable)


async def test_a_run_failing_on_a_stock_page_is_redone_by_the_rerun(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        # Pages 1 and 2 of the stock arrive; page 3 keeps failing past the retries.
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=r"^/StockOnHand/3$")

        with pytest.raises(IntegrationError) as failed:
            await sync_inventory(
                unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
            )

        assert failed.value.category is ErrorCategory.SERVER
        [run] = runs(engine)
        assert run["status"] == "failed"
        assert run["error_message"].startswith("stock stage: ")
        assert run["details_json"]["stock_written"] == 2 * PAGE_SIZE
        assert watermark(engine) is None
        assert len(stored_stock(engine)) == 2 * PAGE_SIZE
        assert rig.hubspot_products() == []  # the run never reached HubSpot
        assert [e.level for e in rig.recorder.logs if e.operation == "sync_inventory"] == ["error"]

        rig.unleashed_harness.faults.reset()
        rerun = await sync_inventory(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
        )

        assert rerun.status == "succeeded"
        assert rerun.watermark_before is None
        assert [r["status"] for r in runs(engine)] == ["failed", "succeeded"]
        assert_complete_once(rig, engine)


async def test_a_failed_incremental_run_keeps_the_watermark(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        first = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        product = rig.unleashed_sandbox.products(BUSINESS)[0]
        rig.unleashed_sandbox.set_stock(BUSINESS, product.code, qty_on_hand=5)
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=r"^/StockOnHand")

        with pytest.raises(IntegrationError):
            await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert watermark(engine) == first.watermark_after
        assert runs(engine)[-1]["watermark_after"] == first.watermark_after

        rig.unleashed_harness.faults.reset()
        rerun = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert rerun.watermark_before == first.watermark_after
        assert rerun.counts["stock_written"] == 1
        default = rig.unleashed_sandbox.store(BUSINESS).default_warehouse().code
        assert stored_stock(engine)[(product.guid.lower(), default)]["qty_on_hand"] == 5
        assert_complete_once(rig, engine)


async def test_a_hubspot_401_fails_the_run_and_the_rerun_creates_no_duplicates(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        rig.hubspot_sandbox.fail_next(
            401, path_contains="/batch/upsert", category="INVALID_AUTHENTICATION"
        )

        with pytest.raises(IntegrationError) as failed:
            await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert failed.value.category is ErrorCategory.AUTHENTICATION
        [run] = runs(engine)
        assert run["status"] == "failed"
        assert run["error_message"].startswith("hubspot stage: ")
        assert watermark(engine) is None
        assert all(row["hubspot_id"] is None for row in stored_products(engine).values())

        rerun = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert rerun.counts["hubspot_failed"] == 0
        assert_complete_once(rig, engine)
        # And once more: nothing new anywhere, HubSpot still holds each product once.
        again = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        assert again.counts["hubspot_created"] == 0
        assert_complete_once(rig, engine)


async def test_refused_hubspot_items_are_counted_and_resent_by_the_next_run(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        sellable = [p for p in rig.unleashed_sandbox.products(BUSINESS) if not p.is_obsolete]
        # A 400 refuses the whole batch: each of its products is an item failure.
        rig.hubspot_sandbox.fail_next(400, path_contains="/batch/upsert")

        first = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert first.status == "succeeded" and not first.ok
        assert first.counts["hubspot_failed"] == len(sellable)
        assert runs(engine)[-1]["failed"] == len(sellable)
        assert watermark(engine) == first.watermark_after
        warnings = [e for e in rig.recorder.logs if e.service == "hubspot" and e.level == "warn"]
        assert warnings and warnings[0].details["failed"] == len(sellable)

        # Unleashed has nothing new, yet the refused products go again.
        second = await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert second.counts["products_written"] == 0
        assert (second.counts["hubspot_created"], second.counts["hubspot_failed"]) == (
            len(sellable),
            0,
        )
        assert_complete_once(rig, engine)
