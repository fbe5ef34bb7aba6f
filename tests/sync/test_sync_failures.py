"""What every Unleashed-sourced sync (inventory, customers, orders) does when things
break, as one suite parametrised over the three: a source failing part-way, a failed
incremental run, HubSpot refusing the token or some items, the database failing mid-run,
a cancelled run, a bad page size. Each is recorded, keeps the old watermark, and the
rerun ends with everything stored and sent exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from customers_helpers import PAGE_SIZE as CUSTOMERS_PAGE_SIZE
from customers_helpers import contacts, sendable, stored_customers
from inventory_helpers import (
    BUSINESS,
    PAGE_SIZE,
    InventoryRig,
    expected_stock_keys,
    inventory_rig,
    row_count,
    stored_products,
    stored_stock,
)
from orders_helpers import (
    deals,
    dealt_orders,
    expected_lines,
    line_items,
    sandbox_orders,
    stored_lines,
    stored_orders,
)
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from masterops.db.tables import (
    customers,
    order_lines,
    orders,
    products,
    stock_levels,
    sync_runs,
    sync_state,
)
from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.sync.customers import sync_customers
from masterops.sync.inventory import sync_inventory
from masterops.sync.orders import sync_orders
from masterops.sync.runs import SyncResult

# -- what each sync holds when it is complete ----------------------------------------------


def _inventory_complete(rig: InventoryRig, engine: Engine) -> None:
    """Every product and stock line stored once; every sellable product in HubSpot once."""
    catalogue = rig.unleashed_sandbox.products(BUSINESS)
    sellable = {p.guid.lower() for p in catalogue if not p.is_obsolete}
    assert set(stored_products(engine)) == {p.guid.lower() for p in catalogue}
    assert row_count(engine, products) == len(catalogue)
    assert set(stored_stock(engine)) == expected_stock_keys(rig.unleashed_sandbox)
    assert row_count(engine, stock_levels) == len(rig.unleashed_sandbox.stock(BUSINESS))
    in_hubspot = [r["properties"]["unleashed_guid"] for r in rig.hubspot_products()]
    assert sorted(in_hubspot) == sorted(sellable)


def _customers_complete(rig: InventoryRig, engine: Engine) -> None:
    """Every customer stored once; every distinct sendable email in HubSpot once."""
    everyone = rig.unleashed_sandbox.customers(BUSINESS)
    assert set(stored_customers(engine)) == {c.guid.lower() for c in everyone}
    assert row_count(engine, customers) == len(everyone)
    emails = {(c.email or "").strip().lower() for c in sendable(rig)}
    in_hubspot = [r["properties"]["email"] for r in contacts(rig)]
    assert sorted(in_hubspot) == sorted(emails)


def _orders_complete(rig: InventoryRig, engine: Engine) -> None:
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
    stored = stored_orders(engine)
    assert all(stored[o.guid.lower()]["hubspot_synced_at"] is not None for o in dealt)


# -- a change in Unleashed, and how to see it stored -----------------------------------------


def _restock(rig: InventoryRig) -> Callable[[Engine], bool]:
    product = rig.unleashed_sandbox.products(BUSINESS)[0]
    rig.unleashed_sandbox.set_stock(BUSINESS, product.code, qty_on_hand=5)
    warehouse = rig.unleashed_sandbox.store(BUSINESS).default_warehouse().code
    return lambda engine: (
        stored_stock(engine)[(product.guid.lower(), warehouse)]["qty_on_hand"] == 5
    )


def _rename(rig: InventoryRig) -> Callable[[Engine], bool]:
    customer = sendable(rig)[0]
    rig.unleashed_sandbox.update_customer(BUSINESS, customer.code, last_name="Changed")
    return lambda engine: stored_customers(engine)[customer.guid.lower()]["last_name"] == "Changed"


def _complete_an_order(rig: InventoryRig) -> Callable[[Engine], bool]:
    order = next(o for o in sandbox_orders(rig) if o.status == "Placed")
    rig.unleashed_sandbox.complete_order(BUSINESS, order.guid)
    return lambda engine: stored_orders(engine)[order.guid.lower()]["status"] == "Completed"


@dataclass(frozen=True)
class SyncCase:
    entity: str  # its sync_runs / sync_state entity, and its LogEvent operation's tail
    run: Callable[..., Awaitable[SyncResult]]
    # The stage a cancellation (or a database failure) interrupts, once it stored a page.
    cancelled_stage: str
    table: Any  # where its records are mirrored
    in_sandbox: Callable[[InventoryRig], int]  # how many records Unleashed holds
    complete_once: Callable[[InventoryRig, Engine], None]
    # A source failing part-way: the page size, the page that keeps failing, the stage
    # it fails in, and the count (and rows) stored before it.
    page_size: int
    failing_page: str
    failing_stage: str
    written: str
    stored_before_failure: int
    stored: Callable[[Engine], int]
    # One record changed in Unleashed; its check that the change was stored.
    change: Callable[[InventoryRig], Callable[[Engine], bool]]
    # What HubSpot holds for it, the count of records HubSpot created, and where a
    # batch upsert is refused: the run's HubSpot objects (``upserts``; a 401 there fails
    # the run) and the objects whose batch is refused item by item (``refused``).
    in_hubspot: Callable[[InventoryRig], list[dict[str, Any]]]
    pushed: Any  # the mirror table the HubSpot stage stamps as sent
    created: str
    upserts: str
    refused: str
    refused_what: str
    #: How many items a refused batch holds at most.
    refusable: Callable[[InventoryRig], int]

    @property
    def operation(self) -> str:
        return f"sync_{self.entity}"

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

    def count(self, engine: Engine) -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(self.table)).scalar_one())


def _sellable(rig: InventoryRig) -> int:
    return sum(1 for p in rig.unleashed_sandbox.products(BUSINESS) if not p.is_obsolete)


def _emails(rig: InventoryRig) -> int:
    return len({(c.email or "").strip().lower() for c in sendable(rig)})


CASES = [
    SyncCase(
        entity="inventory",
        run=sync_inventory,
        cancelled_stage="stock",
        table=stock_levels,
        in_sandbox=lambda rig: len(rig.unleashed_sandbox.stock(BUSINESS)),
        complete_once=_inventory_complete,
        # Pages 1 and 2 of the stock arrive; page 3 keeps failing past the retries.
        page_size=PAGE_SIZE,
        failing_page=r"^/StockOnHand/3$",
        failing_stage="stock",
        written="stock_written",
        stored_before_failure=2 * PAGE_SIZE,
        stored=lambda engine: len(stored_stock(engine)),
        change=_restock,
        in_hubspot=lambda rig: rig.hubspot_products(),
        pushed=products,
        created="hubspot_created",
        upserts="/batch/upsert",
        refused="/batch/upsert",
        refused_what="product",
        refusable=_sellable,
    ),
    SyncCase(
        entity="customers",
        run=sync_customers,
        cancelled_stage="customers",
        table=customers,
        in_sandbox=lambda rig: len(rig.unleashed_sandbox.customers(BUSINESS)),
        complete_once=_customers_complete,
        # Page 1 arrives; page 2 keeps failing past the retries.
        page_size=CUSTOMERS_PAGE_SIZE,
        failing_page=r"^/Customers/2$",
        failing_stage="customers",
        written="customers_written",
        stored_before_failure=CUSTOMERS_PAGE_SIZE,
        stored=lambda engine: row_count(engine, customers),
        change=_rename,
        in_hubspot=contacts,
        pushed=customers,
        created="hubspot_created",
        upserts="/batch/upsert",
        refused="/batch/upsert",
        refused_what="contact",
        refusable=_emails,
    ),
    SyncCase(
        entity="orders",
        run=sync_orders,
        cancelled_stage="orders",
        table=orders,
        in_sandbox=lambda rig: len(rig.unleashed_sandbox.orders(BUSINESS)),
        complete_once=_orders_complete,
        # Page 1 of the orders arrives; page 2 keeps failing past the retries.
        page_size=PAGE_SIZE,
        failing_page=r"^/SalesOrders/2$",
        failing_stage="orders",
        written="orders_written",
        stored_before_failure=PAGE_SIZE,
        stored=lambda engine: len(stored_orders(engine)),
        change=_complete_an_order,
        in_hubspot=deals,
        pushed=orders,
        created="deals_created",
        # The deals go through; the line items meet the revoked token or the refusal.
        upserts="/line_items/batch/upsert",
        refused="/line_items/batch/upsert",
        refused_what="line item",
        refusable=lambda rig: sum(len(o.lines) for o in dealt_orders(rig)),
    ),
]
each_sync = pytest.mark.parametrize("case", CASES, ids=[c.entity for c in CASES])


@each_sync
async def test_a_run_failing_on_a_page_is_redone_by_the_rerun(
    engine: Engine, case: SyncCase
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=case.failing_page)

        with pytest.raises(IntegrationError) as failed:
            await case.run(
                unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=case.page_size
            )

        assert failed.value.category is ErrorCategory.SERVER
        [run] = case.runs(engine)
        assert run["status"] == "failed"
        assert run["error_message"].startswith(f"{case.failing_stage} stage: ")
        assert run["details_json"][case.written] == case.stored_before_failure
        assert case.watermark(engine) is None
        assert case.stored(engine) == case.stored_before_failure
        assert case.in_hubspot(rig) == []  # the run never reached HubSpot
        assert [e.level for e in rig.recorder.logs if e.operation == case.operation] == ["error"]

        rig.unleashed_harness.faults.reset()
        rerun = await case.run(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=case.page_size
        )

        assert rerun.status == "succeeded" and rerun.ok
        assert rerun.watermark_before is None
        assert [r["status"] for r in case.runs(engine)] == ["failed", "succeeded"]
        case.complete_once(rig, engine)


@each_sync
async def test_a_failed_incremental_run_keeps_the_watermark(engine: Engine, case: SyncCase) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        first = await case.run(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        changed = case.change(rig)
        source = case.failing_page.removesuffix("$").rsplit("/", 1)[0]  # every page of it
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=source)

        with pytest.raises(IntegrationError):
            await case.run(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert case.watermark(engine) == first.watermark_after
        assert case.runs(engine)[-1]["watermark_after"] == first.watermark_after
        assert not changed(engine)

        rig.unleashed_harness.faults.reset()
        rerun = await case.run(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert rerun.watermark_before == first.watermark_after
        assert rerun.counts[case.written] == 1 and rerun.counts[case.created] == 0
        assert changed(engine)
        case.complete_once(rig, engine)


@each_sync
async def test_a_hubspot_401_fails_the_run_and_the_rerun_creates_no_duplicates(
    engine: Engine, case: SyncCase
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        rig.hubspot_sandbox.fail_next(
            401, path_contains=case.upserts, category="INVALID_AUTHENTICATION"
        )

        with pytest.raises(IntegrationError) as failed:
            await case.run(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert failed.value.category is ErrorCategory.AUTHENTICATION
        [run] = case.runs(engine)
        assert run["status"] == "failed"
        assert run["error_message"].startswith("hubspot stage: ")
        assert case.watermark(engine) is None
        with engine.connect() as conn:
            # Nothing is stamped as sent: the rerun sends it all.
            sent = conn.execute(
                select(func.count())
                .select_from(case.pushed)
                .where(case.pushed.c.hubspot_synced_at.is_not(None))
            ).scalar_one()
        assert sent == 0

        rerun = await case.run(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert rerun.ok and rerun.counts["hubspot_failed"] == 0
        case.complete_once(rig, engine)
        # And once more with everything resent: HubSpot still holds each record once.
        again = await case.run(unleashed, engine, business_id=BUSINESS, hubspot=hubspot, full=True)
        assert again.ok and again.counts[case.created] == 0
        case.complete_once(rig, engine)


@each_sync
async def test_refused_hubspot_items_are_counted_and_resent_by_the_next_run(
    engine: Engine, case: SyncCase
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        # A 400 refuses the whole batch: each of its items is an item failure.
        rig.hubspot_sandbox.fail_next(400, path_contains=case.refused)

        first = await case.run(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert first.status == "succeeded" and not first.ok
        assert 0 < first.failed <= case.refusable(rig)
        assert first.failed == first.counts["hubspot_failed"] == len(first.refused)
        assert {(r.what, r.category) for r in first.refused} == {
            (case.refused_what, ErrorCategory.VALIDATION.value)
        }
        assert case.runs(engine)[-1]["failed"] == first.failed
        assert case.watermark(engine) == first.watermark_after
        warnings = [e for e in rig.recorder.logs if e.service == "hubspot" and e.level == "warn"]
        assert sum(e.details["failed"] for e in warnings) == first.failed

        # Unleashed has nothing new, yet the refused items go again.
        second = await case.run(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert second.ok and second.refused == ()
        assert second.counts[case.written] == 0
        case.complete_once(rig, engine)


def _move_table(engine: Engine, table: str, to: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {table} RENAME TO {to}"))


@each_sync
async def test_a_database_failure_mid_run_fails_it_with_the_reason_and_the_rerun_completes(
    engine: Engine, case: SyncCase
) -> None:
    name = case.table.name
    async with inventory_rig() as rig:

        def take_the_table_away(stage: str, done: int, total: int | None) -> None:
            # After the first page is stored, its table goes: the next page's write fails.
            if stage == case.cancelled_stage and done > 0 and case.count(engine) == done:
                _move_table(engine, name, f"{name}_away")

        with pytest.raises(DBAPIError):
            await case.run(
                rig.unleashed(),
                engine,
                business_id=BUSINESS,
                page_size=case.page_size,
                on_progress=take_the_table_away,
            )
        _move_table(engine, f"{name}_away", name)

        [run] = case.runs(engine)
        assert run["status"] == "failed"
        # The driver's first line, not SQLAlchemy's text with the statement and records.
        message = run["error_message"]
        assert message.startswith(f"{case.cancelled_stage} stage: database error: ")
        assert "INSERT" not in message and "\n" not in message
        assert case.watermark(engine) is None
        [event] = [e for e in rig.recorder.logs if e.operation == case.operation]
        assert event.level == "error" and message in event.message
        assert 0 < case.count(engine) < case.in_sandbox(rig)

        rerun = await case.run(rig.unleashed(), engine, business_id=BUSINESS)
        assert rerun.status == "succeeded"
        assert case.count(engine) == case.in_sandbox(rig)


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
        assert case.count(engine) == case.in_sandbox(rig)


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
