"""What every Unleashed-sourced sync (inventory, customers, orders) does when things
break, as one suite: a cancelled run is recorded interrupted and redone by the rerun, a
wrong HubSpot token fails the run without leaking it, a bad page size is refused before
any run. What breaks differently per sync stays in its own ``test_sync_*_failures.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from inventory_helpers import BUSINESS, PAGE_SIZE, InventoryRig, inventory_rig
from sqlalchemy import Engine, func, select

from masterops.db.tables import customers, orders, stock_levels, sync_runs, sync_state
from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.sync.customers import sync_customers
from masterops.sync.inventory import sync_inventory
from masterops.sync.orders import sync_orders


@dataclass(frozen=True)
class SyncCase:
    entity: str  # its sync_runs / sync_state entity
    run: Callable[..., Awaitable[Any]]
    cancelled_stage: str  # the stage a cancellation interrupts, once it has stored a page
    table: Any  # where its records are mirrored
    in_sandbox: Callable[[InventoryRig], int]  # how many records Unleashed holds

    def runs(self, engine: Engine) -> list[dict[str, Any]]:
        with engine.connect() as conn:
            rows = conn.execute(
                select(sync_runs).where(sync_runs.c.entity == self.entity).order_by(sync_runs.c.id)
            )
            return [dict(r._mapping) for r in rows]

    def watermark(self, engine: Engine) -> str | None:
        with engine.connect() as conn:
            return conn.execute(
                select(sync_state.c.watermark).where(
                    sync_state.c.business_id == BUSINESS, sync_state.c.entity == self.entity
                )
            ).scalar()

    def stored(self, engine: Engine) -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.table)).scalar_one())


CASES = [
    SyncCase(
        "inventory",
        sync_inventory,
        "stock",
        stock_levels,
        lambda rig: len(rig.unleashed_sandbox.stock(BUSINESS)),
    ),
    SyncCase(
        "customers",
        sync_customers,
        "customers",
        customers,
        lambda rig: len(rig.unleashed_sandbox.customers(BUSINESS)),
    ),
    SyncCase(
        "orders",
        sync_orders,
        "orders",
        orders,
        lambda rig: len(rig.unleashed_sandbox.orders(BUSINESS)),
    ),
]
each_sync = pytest.mark.parametrize("case", CASES, ids=[c.entity for c in CASES])


@each_sync
async def test_a_cancelled_run_is_recorded_interrupted(engine: Engine, case: SyncCase) -> None:
    async with inventory_rig() as rig:

        def cancel_midway(stage: str, done: int, total: int | None) -> None:
            if stage == case.cancelled_stage and done > 0:
                raise asyncio.CancelledError

        with pytest.raises(asyncio.CancelledError):
            await case.run(
                rig.unleashed(),
                engine,
                business_id=BUSINESS,
                page_size=PAGE_SIZE,
                on_progress=cancel_midway,
            )

        [run] = case.runs(engine)
        assert run["status"] == "interrupted"
        assert case.watermark(engine) is None

        rerun = await case.run(rig.unleashed(), engine, business_id=BUSINESS)
        assert rerun.status == "succeeded"
        assert case.stored(engine) == case.in_sandbox(rig)


@each_sync
async def test_a_wrong_hubspot_token_fails_the_run_without_leaking_it(
    engine: Engine, case: SyncCase
) -> None:
    async with inventory_rig() as rig:
        wrong = "pat-na1-00000000-dead-beef-0000-000000000000"
        with pytest.raises(IntegrationError) as failed:
            await case.run(
                rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot(token=wrong)
            )

        assert failed.value.category is ErrorCategory.AUTHENTICATION
        [run] = case.runs(engine)
        assert run["status"] == "failed" and wrong not in run["error_message"]
        assert all(wrong not in str(e) for e in rig.recorder.events)
        assert case.watermark(engine) is None


@each_sync
async def test_a_bad_page_size_is_refused_before_any_run(engine: Engine, case: SyncCase) -> None:
    async with inventory_rig() as rig:
        with pytest.raises(ValueError, match="page_size"):
            await case.run(rig.unleashed(), engine, business_id=BUSINESS, page_size=5000)
        assert case.runs(engine) == []
