"""``sync_orders``: full and incremental runs against the Unleashed and HubSpot
sandboxes, on every database backend."""

from __future__ import annotations

from datetime import UTC, datetime

from inventory_helpers import BUSINESS, PAGE_SIZE, inventory_rig, stored_products
from orders_helpers import (
    deal_of,
    deals,
    dealt_orders,
    expected_lines,
    line_item_of,
    line_items,
    linked,
    make_contacts,
    runs,
    sandbox_orders,
    stored_lines,
    stored_orders,
    watermark,
)
from sqlalchemy import Engine

from masterops.integrations.unleashed import CustomerRef, ProductRef, SalesOrder, SalesOrderLine
from masterops.sync.inventory import sync_inventory
from masterops.sync.orders import KIND, _Seen, _store_orders, sync_orders
from masterops.sync.orders_hubspot import deal_properties, deal_stage, line_item_properties
from masterops.sync.runs import SyncResult, Tally


async def test_full_sync_stores_every_order_once_and_creates_deals_with_line_items(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        contacts = make_contacts(rig, engine)
        progress: list[tuple[str, int, int | None]] = []
        result = await sync_orders(
            rig.unleashed(),
            engine,
            business_id=BUSINESS,
            hubspot=rig.hubspot(),
            full=True,
            page_size=PAGE_SIZE,
            on_progress=lambda stage, done, total: progress.append((stage, done, total)),
        )

        every = sandbox_orders(rig)
        dealt = dealt_orders(rig)
        assert any(o.status == "Deleted" for o in every), "the seed should hold deleted orders"
        stored = stored_orders(engine)
        lines = stored_lines(engine)
        assert set(stored) == {o.guid.lower() for o in every}
        assert set(lines) == expected_lines(rig)
        dealt_lines = sum(len(o.lines) for o in dealt)

        assert isinstance(result, SyncResult) and result.entity == "orders"
        assert result.status == "succeeded" and result.ok
        assert result.counts["orders_fetched"] == result.counts["orders_written"] == len(every)
        assert result.counts["lines_written"] == len(lines)
        assert result.counts["deals_upserted"] == result.counts["deals_created"] == len(dealt)
        assert result.counts["line_items_upserted"] == dealt_lines
        # One link per line item, one per deal to its customer's contact.
        assert result.counts["associations_created"] == dealt_lines + len(dealt)
        assert result.counts["hubspot_failed"] == 0
        assert result.watermark_before is None
        assert result.watermark_after is not None
        assert watermark(engine) == result.watermark_after

        assert len(deals(rig)) == len(dealt)
        assert len(line_items(rig)) == dealt_lines
        for order in every:
            row = stored[order.guid.lower()]
            assert row["order_number"] == order.number
            assert row["status"] == order.status
            assert row["customer_guid"] == order.customer.guid.lower()
            assert row["total"] == order.total
            deal = deal_of(rig, order)
            if order.status == "Deleted":
                assert deal is None and row["hubspot_deal_id"] is None
                continue
            assert deal is not None
            props = deal["properties"]
            assert props["dealname"] == f"{order.number} {order.customer.name}"
            assert float(props["amount"]) == order.total
            assert props["dealstage"] == deal_stage(order.status)
            assert props["pipeline"] == "default"
            closes = datetime.fromisoformat(props["closedate"].replace("Z", "+00:00"))
            assert closes == datetime.fromtimestamp(order.order_ms / 1000, UTC)
            assert row["hubspot_deal_id"] == str(deal["id"])
            assert row["hubspot_synced_at"] is not None
            item_ids = set()
            for line in order.lines:
                item = line_item_of(rig, line.guid)
                assert item is not None
                assert float(item["properties"]["quantity"]) == line.quantity
                assert float(item["properties"]["price"]) == line.unit_price
                assert item["properties"]["name"] == line.product.description
                stored_line = lines[(order.guid.lower(), line.line_number)]
                assert stored_line["hubspot_line_item_id"] == str(item["id"])
                item_ids.add(str(item["id"]))
            assert linked(rig, str(deal["id"]), "line_items") == item_ids
            assert linked(rig, str(deal["id"]), "contacts") == {
                contacts[order.customer.guid.lower()]
            }

        [run] = runs(engine)
        assert (run["id"], run["status"]) == (result.run_id, "succeeded")
        assert run["written"] == result.counts["orders_written"] + result.counts["lines_written"]
        last = {stage: (done, total) for stage, done, total in progress}
        assert last == {"orders": (len(every), len(every)), "hubspot": (len(dealt), len(dealt))}
        summaries = [e for e in rig.recorder.logs if e.operation == "sync_orders"]
        assert [(e.source, e.service, e.level) for e in summaries] == [
            ("sync", "unleashed", "info")
        ]
        assert summaries[0].details["orders_written"] == len(every)


async def test_an_incremental_run_after_completing_an_order_moves_its_deal(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        first = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        order = next(o for o in sandbox_orders(rig) if o.status in ("Open", "Placed"))
        deal_before = deal_of(rig, order)
        assert deal_before is not None
        assert deal_before["properties"]["dealstage"] == "appointmentscheduled"
        counts_before = (len(deals(rig)), len(line_items(rig)))

        rig.unleashed_sandbox.complete_order(BUSINESS, order.guid)
        second = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert second.watermark_before == first.watermark_after
        assert second.counts["orders_written"] == 1
        assert (second.counts["deals_upserted"], second.counts["deals_created"]) == (1, 0)
        assert second.counts["line_items_upserted"] == len(order.lines)
        deal = deal_of(rig, order)
        assert deal is not None and deal["id"] == deal_before["id"]
        assert deal["properties"]["dealstage"] == "closedwon"
        assert stored_orders(engine)[order.guid.lower()]["status"] == "Completed"
        # Updated in place: no second deal, no second set of line items or links.
        assert (len(deals(rig)), len(line_items(rig))) == counts_before
        assert len(linked(rig, str(deal["id"]), "line_items")) == len(order.lines)
        assert [r["status"] for r in runs(engine)] == ["succeeded", "succeeded"]


async def test_a_deleted_order_closes_its_deal_lost(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        order = next(o for o in sandbox_orders(rig) if o.status == "Parked")
        rig.unleashed_sandbox.set_order_status(BUSINESS, order.guid, "Deleted")

        result = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert result.counts["orders_written"] == 1 and result.counts["deals_created"] == 0
        deal = deal_of(rig, order)
        assert deal is not None and deal["properties"]["dealstage"] == "closedlost"
        assert stored_orders(engine)[order.guid.lower()]["status"] == "Deleted"


async def test_line_items_point_to_the_hubspot_products_of_the_inventory_sync(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        await sync_inventory(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        product_ids = {g: r["hubspot_id"] for g, r in stored_products(engine).items()}

        result = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert result.ok
        pointed = 0
        for order in dealt_orders(rig):
            for line in order.lines:
                item = line_item_of(rig, line.guid)
                assert item is not None
                expected = product_ids[line.product.guid.lower()]
                assert item["properties"].get("hs_product_id") == expected
                pointed += expected is not None
        assert pointed > 0
        # No contacts known (no customers sync ran): no deal -> contact links.
        assert result.counts["associations_created"] == result.counts["line_items_upserted"]


async def test_without_hubspot_only_the_database_is_written(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed = rig.unleashed()
        result = await sync_orders(unleashed, engine, business_id=BUSINESS)

        assert not result.hubspot_enabled
        assert len(stored_orders(engine)) == len(sandbox_orders(rig))
        assert rig.hubspot_harness.call_count() == 0

        # Later, with HubSpot: the orders never sent go, though Unleashed has nothing new.
        later = await sync_orders(unleashed, engine, business_id=BUSINESS, hubspot=rig.hubspot())
        assert later.counts["orders_written"] == 0
        assert later.counts["deals_created"] == len(dealt_orders(rig))


def _order(guid: str, *lines: tuple[int, str]) -> SalesOrder:
    return SalesOrder(
        guid=guid,
        order_number="SO-1",
        order_status="Open",
        customer=CustomerRef(guid="C1", customer_code="CUST", customer_name="Cust"),
        sales_order_lines=[
            SalesOrderLine(
                guid=line_guid,
                line_number=number,
                product=ProductRef(guid="P1", product_code="TLX-1"),
                order_quantity=1.0,
            )
            for number, line_guid in lines
        ],
    )


def test_an_orders_lines_are_replaced_and_a_guid_twice_in_a_page_is_stored_once(
    engine: Engine,
) -> None:
    guid = "5D1E1C0A-1111-4222-8333-944455556666"
    tally, seen = Tally(KIND, "orders"), _Seen()
    with engine.begin() as conn:
        _store_orders(conn, BUSINESS, [_order(guid, (1, "L1"), (2, "L2"), (3, "L3"))], tally, seen)
    # The same order twice in a page (records move during a walk), now without line 2.
    newer = _order(guid.lower(), (1, "L1"), (3, "L3"))
    with engine.begin() as conn:
        _store_orders(conn, BUSINESS, [_order(guid, (1, "L1")), newer], tally, seen)

    assert list(stored_orders(engine)) == [guid.lower()]
    assert set(stored_lines(engine)) == {(guid.lower(), 1), (guid.lower(), 3)}
    assert (tally["orders_fetched"], tally["orders_written"]) == (3, 1)

    with engine.begin() as conn:
        _store_orders(conn, BUSINESS, [_order(guid)], tally, seen)  # every line gone
    assert stored_lines(engine) == {}


def test_hubspot_properties_of_an_order_and_a_line() -> None:
    order = {
        "unleashed_guid": "0a1b",
        "order_number": "SO-00000042",
        "order_date": datetime(2026, 3, 1, tzinfo=UTC),
        "status": "Backordered",
        "customer_code": "CUST1",
        "total": 110.0,
    }
    assert deal_properties(order, "Acme Pty") == {
        "unleashed_order_guid": "0a1b",
        "dealname": "SO-00000042 Acme Pty",
        "dealstage": "appointmentscheduled",
        "pipeline": "default",
        "amount": "110",
        "closedate": "1772323200000",
    }
    assert deal_properties({**order, "total": None}, None)["dealname"] == "SO-00000042 CUST1"
    assert "amount" not in deal_properties({**order, "total": None}, None)
    assert [deal_stage(s) for s in ("Completed", "Deleted", "Open", "Parked")] == [
        "closedwon",
        "closedlost",
        "appointmentscheduled",
        "appointmentscheduled",
    ]
    line = {
        "order_guid": "0a1b",
        "line_number": 2,
        "line_guid": None,
        "product_code": "TLX-1",
        "quantity": 3.0,
        "unit_price": 12.95,
    }
    assert line_item_properties(line, None, "901") == {
        "unleashed_line_guid": "0a1b:2",
        "name": "TLX-1",
        "quantity": "3",
        "price": "12.95",
        "hs_product_id": "901",
    }
