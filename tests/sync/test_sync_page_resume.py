"""Durable progress inside a sync (``sync/pages.py``): a run that stopped part-way
resumes after the last page it stored, never asking Unleashed for an earlier page
again, skips a stage it had finished, and still stores and sends every record once.
(The kill -9 version, with workers as real processes: tests/jobs/test_topology.py.)"""

from __future__ import annotations

import math
from datetime import datetime

import pytest
from inventory_helpers import BUSINESS, PAGE_SIZE, inventory_rig, row_count, stored_stock
from orders_helpers import deals, dealt_orders, sandbox_orders, stored_orders
from sqlalchemy import Engine, select

from masterops.db.tables import products, stock_levels, sync_page_progress, sync_runs
from masterops.integrations.base import IntegrationError
from masterops.sync.inventory import sync_inventory
from masterops.sync.orders import sync_orders


def _progress(engine: Engine) -> dict[str, tuple[int, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(select(sync_page_progress)).all()
    return {r.stage: (r.page, r.done) for r in rows}


def _started(engine: Engine, run_id: int) -> datetime:
    with engine.connect() as conn:
        return conn.execute(
            select(sync_runs.c.started_at).where(sync_runs.c.id == run_id)
        ).scalar_one()


async def test_an_orders_run_resumes_after_its_last_stored_page(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        pages = math.ceil(len(sandbox_orders(rig)) / PAGE_SIZE)
        assert pages >= 3
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=r"^/SalesOrders/3$")
        with pytest.raises(IntegrationError):
            await sync_orders(
                unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
            )
        assert _progress(engine) == {"orders": (2, False)}
        rig.unleashed_harness.faults.reset()
        rig.unleashed_harness.reset_calls()

        rerun = await sync_orders(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
        )

        # Pages 1 and 2 were not asked for again: only 3 to the last.
        asked = rig.unleashed_harness.call_count("/SalesOrders/{page:int}", "GET")
        assert asked == pages - 2
        assert (
            rerun.status == "succeeded"
            and rerun.counts["orders_fetched"] == len(sandbox_orders(rig)) - 2 * PAGE_SIZE
        )
        # Every order stored once, every dealt order one deal, and the progress gone.
        assert set(stored_orders(engine)) == {o.guid.lower() for o in sandbox_orders(rig)}
        guids = [d["properties"]["unleashed_order_guid"] for d in deals(rig)]
        assert sorted(guids) == sorted(o.guid.lower() for o in dealt_orders(rig))
        assert _progress(engine) == {}


async def test_a_finished_stage_is_skipped_and_the_watermark_is_the_first_attempts(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        stock_pages = math.ceil(len(rig.unleashed_sandbox.stock(BUSINESS)) / PAGE_SIZE)
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=r"^/StockOnHand/2$")
        with pytest.raises(IntegrationError):
            await sync_inventory(
                unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
            )
        progress = _progress(engine)
        assert progress["products"][1] is True and progress["stock"] == (1, False)
        rig.unleashed_harness.faults.reset()
        rig.unleashed_harness.reset_calls()

        rerun = await sync_inventory(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
        )

        assert rig.unleashed_harness.call_count("/Products/{page:int}", "GET") == 0
        assert rig.unleashed_harness.call_count("/StockOnHand/{page:int}", "GET") == stock_pages - 1
        assert row_count(engine, products) == len(rig.unleashed_sandbox.products(BUSINESS))
        assert len(stored_stock(engine)) == row_count(engine, stock_levels)
        assert row_count(engine, stock_levels) == len(rig.unleashed_sandbox.stock(BUSINESS))
        # The watermark is when the first attempt started: a change made while the
        # sync was down is read by the next run.
        assert rerun.watermark_after is not None
        first = _started(engine, rerun.run_id - 1)
        assert datetime.fromisoformat(rerun.watermark_after) <= _started(engine, rerun.run_id)
        assert abs((datetime.fromisoformat(rerun.watermark_after) - first).total_seconds()) < 5


async def test_a_different_read_starts_the_walk_again(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed = rig.unleashed()
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=r"^/SalesOrders/2$")
        with pytest.raises(IntegrationError):
            await sync_orders(unleashed, engine, business_id=BUSINESS, page_size=PAGE_SIZE)
        rig.unleashed_harness.faults.reset()
        rig.unleashed_harness.reset_calls()
        # Another page size: page numbers mean other records, so page 1 again.
        await sync_orders(unleashed, engine, business_id=BUSINESS, page_size=PAGE_SIZE + 5)
        assert rig.unleashed_harness.call_count("/SalesOrders/{page:int}", "GET") == math.ceil(
            len(sandbox_orders(rig)) / (PAGE_SIZE + 5)
        )
        assert set(stored_orders(engine)) == {o.guid.lower() for o in sandbox_orders(rig)}
