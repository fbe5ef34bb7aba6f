"""The links of deals stay right (issue #8): an order is re-linked when its contact,
company or products get a HubSpot id later or another one, and stale links are removed,
by the next incremental run of the orders sync."""

from __future__ import annotations

import contextlib

from inventory_helpers import BUSINESS, InventoryRig, inventory_rig
from links_helpers import link_report
from orders_helpers import deal_of, dealt_orders, line_item_of, linked
from sqlalchemy import Engine, select, update

from masterops.db.tables import customers, dropped_order_lines
from masterops.integrations.base import IntegrationError
from masterops.sync.customers import sync_customers
from masterops.sync.inventory import sync_inventory
from masterops.sync.orders import sync_orders
from masterops.sync.runs import SyncResult
from masterops_sandbox.unleashed.records import SalesOrder


async def _orders(rig: InventoryRig, engine: Engine, *, full: bool = False) -> SyncResult:
    return await sync_orders(
        rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot(), full=full
    )


async def _customers(rig: InventoryRig, engine: Engine) -> None:
    await sync_customers(rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot())


async def _inventory(rig: InventoryRig, engine: Engine) -> None:
    await sync_inventory(rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot())


def _deal_id(rig: InventoryRig, order: SalesOrder) -> str:
    deal = deal_of(rig, order)
    assert deal is not None
    return str(deal["id"])


def _contact_of(rig: InventoryRig, email: str) -> str | None:
    found = rig.hubspot_sandbox.find(BUSINESS, "contacts", "email", email.lower())
    return None if found is None else str(found["id"])


def _customers_with_orders(rig: InventoryRig) -> dict[str, list[SalesOrder]]:
    by_customer: dict[str, list[SalesOrder]] = {}
    for order in dealt_orders(rig):
        if order.customer.email and not order.customer.obsolete:
            by_customer.setdefault(order.customer.guid, []).append(order)
    return by_customer


async def test_orders_sent_before_their_customers_were_contacts_are_linked_by_the_next_run(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        # The customers sync meets a HubSpot that refuses every contact upsert.
        rig.hubspot_harness.faults.configure(rate_5xx=1.0, path_pattern=r"/contacts/batch/upsert")
        with contextlib.suppress(IntegrationError):
            await _customers(rig, engine)
        rig.hubspot_harness.faults.reset()
        await _orders(rig, engine)
        dealt = dealt_orders(rig)
        assert all(not linked(rig, _deal_id(rig, o), "contacts") for o in dealt)

        await _customers(rig, engine)
        rerun = await _orders(rig, engine)

        assert rerun.ok
        with_contacts = [o for o in dealt if o.customer.email and not o.customer.obsolete]
        assert with_contacts
        for order in with_contacts:
            contact_id = _contact_of(rig, str(order.customer.email))
            assert linked(rig, _deal_id(rig, order), "contacts") == {contact_id}
        assert rerun.counts["associations_created"] >= len(with_contacts)
        # Linked once: a third run finds nothing to do.
        third = await _orders(rig, engine)
        assert (third.counts["deals_upserted"], third.counts["associations_created"]) == (0, 0)
        report = link_report(rig, engine)
        assert report.clean, report.summary()


async def test_line_items_sent_before_their_products_were_in_hubspot_get_them_next_run(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        rig.hubspot_harness.faults.configure(rate_5xx=1.0, path_pattern=r"/products/batch/upsert")
        with contextlib.suppress(IntegrationError):
            await _inventory(rig, engine)
        rig.hubspot_harness.faults.reset()
        await _orders(rig, engine)
        lines = [line for o in dealt_orders(rig) for line in o.lines]
        assert all(
            "hs_product_id"
            not in (line_item_of(rig, line.guid) or {"properties": {}})["properties"]
            for line in lines
        )

        await _inventory(rig, engine)
        rerun = await _orders(rig, engine)

        assert rerun.ok and rerun.counts["line_items_upserted"] == len(lines)
        named = 0
        for line in lines:
            product = rig.hubspot_sandbox.find(
                BUSINESS, "products", "unleashed_guid", line.product.guid.lower()
            )
            item = line_item_of(rig, line.guid)
            assert item is not None
            expected = None if product is None else str(product["id"])
            assert item["properties"].get("hs_product_id") == expected
            named += expected is not None
        assert named > 0
        report = link_report(rig, engine)
        assert report.clean, report.summary()


async def test_a_changed_email_moves_the_deals_to_the_new_contact(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await _customers(rig, engine)
        await _orders(rig, engine)
        guid, its_orders = max(_customers_with_orders(rig).items(), key=lambda kv: len(kv[1]))
        old_email = str(its_orders[0].customer.email)
        old_contact = _contact_of(rig, old_email)
        assert old_contact is not None

        rig.unleashed_sandbox.update_customer(BUSINESS, guid, email="moved.on@example.com")
        await _customers(rig, engine)
        result = await _orders(rig, engine)

        new_contact = _contact_of(rig, "moved.on@example.com")
        assert new_contact is not None and new_contact != old_contact
        for order in its_orders:
            assert linked(rig, _deal_id(rig, order), "contacts") == {new_contact}
        assert result.ok
        # The customers sync archived the old contact (no active customer points at it any
        # more), and HubSpot drops an archived record's associations with it: nothing stale
        # is left for the orders sync to remove.
        assert _contact_of(rig, old_email) is None
        assert result.counts["associations_removed"] == 0
        assert result.counts["deals_upserted"] == len(
            its_orders
        )  # only the moved customer's orders
        report = link_report(rig, engine)
        assert report.clean, report.summary()


async def test_a_line_dropped_in_unleashed_loses_its_line_item(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await _orders(rig, engine)
        order = next(o for o in dealt_orders(rig) if len(o.lines) >= 2)
        dropped = order.lines[-1]
        assert line_item_of(rig, dropped.guid) is not None

        rig.unleashed_sandbox.drop_order_line(BUSINESS, order.guid, dropped.line_number)
        result = await _orders(rig, engine)

        assert result.ok and result.counts["line_items_archived"] == 1
        assert line_item_of(rig, dropped.guid) is None
        kept = {str((line_item_of(rig, line.guid) or {})["id"]) for line in order.lines}
        assert linked(rig, _deal_id(rig, order), "line_items") == kept
        assert _dropped_count(engine) == 0
        report = link_report(rig, engine)
        assert report.clean, report.summary()


async def test_a_dropped_line_whose_line_item_was_never_linked_is_archived_too(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        # The line items are made, but linking them to their deals keeps failing.
        rig.hubspot_sandbox.fail_next(
            400, times=10, path_contains="/associations/deals/line_items/batch/create"
        )
        first = await _orders(rig, engine)
        assert not first.ok and first.counts["hubspot_failed"] > 0
        rig.hubspot_sandbox.clear_failures()
        order = next(o for o in dealt_orders(rig) if len(o.lines) >= 2)
        dropped = order.lines[0]
        assert line_item_of(rig, dropped.guid) is not None
        assert not linked(rig, _deal_id(rig, order), "line_items")

        rig.unleashed_sandbox.drop_order_line(BUSINESS, order.guid, dropped.line_number)
        result = await _orders(rig, engine)

        assert result.ok
        assert line_item_of(rig, dropped.guid) is None
        assert _dropped_count(engine) == 0
        report = link_report(rig, engine)
        assert report.clean, report.summary()


async def test_the_customers_company_is_linked_and_relinked_like_the_contact(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        await _customers(rig, engine)
        await _orders(rig, engine)
        guid, its_orders = next(iter(_customers_with_orders(rig).items()))
        first_company = rig.hubspot_sandbox.create(BUSINESS, "companies", {"name": "Shop One"})
        _set_company(engine, guid, first_company)

        linked_run = await _orders(rig, engine)

        assert linked_run.ok and linked_run.counts["deals_upserted"] == len(its_orders)
        for order in its_orders:
            assert linked(rig, _deal_id(rig, order), "companies") == {first_company}

        second_company = rig.hubspot_sandbox.create(BUSINESS, "companies", {"name": "Shop Two"})
        _set_company(engine, guid, second_company)
        relinked = await _orders(rig, engine)

        assert relinked.ok and relinked.counts["associations_removed"] == len(its_orders)
        for order in its_orders:
            assert linked(rig, _deal_id(rig, order), "companies") == {second_company}
        report = link_report(rig, engine)
        assert report.clean, report.summary()


async def test_a_full_run_removes_links_the_order_does_not_have(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await _customers(rig, engine)
        await _orders(rig, engine)
        by_customer = _customers_with_orders(rig)
        (_, mine), (_, theirs) = list(by_customer.items())[:2]
        deal_id = _deal_id(rig, mine[0])
        # A deal linked to two contacts, as the old sync left it after an email change.
        wrong = _contact_of(rig, str(theirs[0].customer.email))
        assert wrong is not None
        rig.hubspot_sandbox.associate(BUSINESS, "deals", deal_id, "contacts", wrong, 3)

        result = await _orders(rig, engine, full=True)

        assert result.ok and result.counts["associations_removed"] == 1
        assert wrong not in linked(rig, deal_id, "contacts")
        report = link_report(rig, engine)
        assert report.clean, report.summary()


def _set_company(engine: Engine, customer_guid: str, company_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(customers)
            .where(
                customers.c.business_id == BUSINESS,
                customers.c.unleashed_guid == customer_guid.lower(),
            )
            .values(hubspot_company_id=company_id)
        )


def _dropped_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(dropped_order_lines.c.line_guid)).all())
