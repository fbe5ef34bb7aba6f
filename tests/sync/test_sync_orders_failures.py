"""``sync_orders`` when things break: a failed or interrupted run is recorded, keeps the
old watermark, and the rerun ends with every order, line, deal and line item once."""

from __future__ import annotations

import pytest
from inventory_helpers import BUSINESS, PAGE_SIZE, InventoryRig, inventory_rig, row_count
from orders_helpers import (
    deals,
    dealt_orders,
    expected_lines,
    line_items,
    runs,
    sandbox_orders,
    stored_lines,
    stored_orders,
    watermark,
)
from sqlalchemy import Engine

from masterops.db.tables import order_lines, orders
from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.sync.orders import sync_orders


def assert_complete_once(rig: InventoryRig, engine: Engine) -> None:
    """Every order and line stored once; every dealt order a deal once, its lines once."""
    every = sandbox_orders(rig)
    dealt = dealt_orders(rig)
    assert set(stored_orders(engine)) == {o.guid.lower() for o in every}
    assert row_count(engine, orders) == len(every)
    assert set(stored_lines(engine)) == expected_lines(rig)
    assert row_count(engine, order_lines) == len(expected_lines(rig))
    in_hubspot = [d["properties"]["unleashed_order_guid"] for d in deals(rig)]
    assert sorted(in_hubspot) == sorted(o.guid.lower() for o in dealt)
    items = [i["properties"]["unleashed_line_guid"] for i in line_items(rig)]
    assert sorted(items) == sorted(line.guid.lower() for o in dealt for line in o.lines)
    assert all(r["hubspot_synced_at"] is not None for r in _dealt_rows(rig, engine))


def _dealt_rows(rig: InventoryRig, engine: Engine) -> list[dict[str, object]]:
    stored = stored_orders(engine)
    return [stored[o.guid.lower()] for o in dealt_orders(rig)]


async def test_a_run_failing_on_an_orders_page_is_redone_by_the_rerun(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        # Page 1 of the orders arrives; page 2 keeps failing past the retries.
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=r"^/SalesOrders/2$")

        with pytest.raises(IntegrationError) as failed:
            await sync_orders(
                unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
            )

        assert failed.value.category is ErrorCategory.SERVER
        [run] = runs(engine)
        assert run["status"] == "failed"
        assert run["error_message"].startswith("orders stage: ")
        assert run["details_json"]["orders_written"] == PAGE_SIZE
        assert watermark(engine) is None
        assert len(stored_orders(engine)) == PAGE_SIZE
        assert deals(rig) == []  # the run never reached HubSpot
        assert [e.level for e in rig.recorder.logs if e.operation == "sync_orders"] == ["error"]

        rig.unleashed_harness.faults.reset()
        rerun = await sync_orders(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
        )

        assert rerun.status == "succeeded" and rerun.ok
        assert rerun.watermark_before is None
        assert [r["status"] for r in runs(engine)] == ["failed", "succeeded"]
        assert_complete_once(rig, engine)


async def test_a_failed_incremental_run_keeps_the_watermark(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        first = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        order = next(o for o in sandbox_orders(rig) if o.status == "Placed")
        rig.unleashed_sandbox.complete_order(BUSINESS, order.guid)
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=r"^/SalesOrders")

        with pytest.raises(IntegrationError):
            await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert watermark(engine) == first.watermark_after
        assert runs(engine)[-1]["watermark_after"] == first.watermark_after

        rig.unleashed_harness.faults.reset()
        rerun = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert rerun.watermark_before == first.watermark_after
        assert rerun.counts["orders_written"] == 1 and rerun.counts["deals_created"] == 0
        assert stored_orders(engine)[order.guid.lower()]["status"] == "Completed"
        assert_complete_once(rig, engine)


async def test_a_hubspot_401_fails_the_run_and_the_rerun_creates_no_duplicates(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        # The deals go through; the line items meet a revoked token.
        rig.hubspot_sandbox.fail_next(
            401, path_contains="/line_items/batch/upsert", category="INVALID_AUTHENTICATION"
        )

        with pytest.raises(IntegrationError) as failed:
            await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert failed.value.category is ErrorCategory.AUTHENTICATION
        [run] = runs(engine)
        assert run["status"] == "failed"
        assert run["error_message"].startswith("hubspot stage: ")
        assert watermark(engine) is None
        assert all(r["hubspot_synced_at"] is None for r in stored_orders(engine).values())

        rerun = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert rerun.ok
        assert_complete_once(rig, engine)
        again = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        assert (again.counts["deals_upserted"], again.counts["deals_created"]) == (0, 0)
        assert_complete_once(rig, engine)


async def test_refused_line_items_are_counted_and_resent_by_the_next_run(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        dealt = dealt_orders(rig)
        dealt_lines = sum(len(o.lines) for o in dealt)
        # A 400 refuses the whole batch: each of its line items is an item failure.
        rig.hubspot_sandbox.fail_next(400, path_contains="/line_items/batch/upsert")

        first = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert first.status == "succeeded" and not first.ok
        assert first.counts["deals_created"] == len(dealt)
        assert 0 < first.counts["hubspot_failed"] <= dealt_lines
        assert first.counts["line_items_upserted"] == dealt_lines - first.counts["hubspot_failed"]
        assert runs(engine)[-1]["failed"] == first.counts["hubspot_failed"]
        assert watermark(engine) == first.watermark_after
        warnings = [e for e in rig.recorder.logs if e.service == "hubspot" and e.level == "warn"]
        assert sum(e.details["failed"] for e in warnings) == first.counts["hubspot_failed"]
        unsynced = [r for r in _dealt_rows(rig, engine) if r["hubspot_synced_at"] is None]
        assert unsynced and all(r["hubspot_deal_id"] for r in unsynced)

        # Unleashed has nothing new, yet the orders with refused lines go again.
        second = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert second.counts["orders_written"] == 0
        assert second.counts["hubspot_failed"] == 0
        assert (second.counts["deals_upserted"], second.counts["deals_created"]) == (
            len(unsynced),
            0,
        )
        assert_complete_once(rig, engine)
