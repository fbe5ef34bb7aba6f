"""Reading Unleashed through the connector: paging, filters, single records, the probe."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from ulconn_helpers import BUSINESS, START, UlEnv

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.unleashed import (
    PRODUCTS,
    UnleashedConnector,
    products_query,
)
from masterops.observability.events import EventRecorder

PRODUCT_PAGES = "/Products/{page:int}"


async def test_probe_is_healthy_only_after_a_real_signed_call(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    result = await ul.health()
    assert result.status == "healthy", result.message
    assert result.details["warehouses"] == len(env.sandbox.warehouses(BUSINESS))
    assert env.harness.call_count("/Warehouses", "GET") == 1


async def test_iterate_walks_every_page_and_stops_at_the_last(
    env: UlEnv, ul: UnleashedConnector, recorder: EventRecorder
) -> None:
    expected = {p.guid for p in env.sandbox.products(BUSINESS, include_obsolete=False)}
    products = [p async for p in ul.iterate_products(page_size=7)]
    assert [p.guid for p in products] and {p.guid for p in products} == expected
    assert len(products) == len(expected)
    assert env.harness.call_count(PRODUCT_PAGES, "GET") == math.ceil(len(expected) / 7)
    # Telemetry names the template, never the page number or the query.
    endpoints = {call.endpoint for call in recorder.api_calls}
    assert endpoints == {"/Products/{page}"}


async def test_page_size_1000_takes_one_call(env: UlEnv, ul: UnleashedConnector) -> None:
    products = [p async for p in ul.iterate_products(page_size=1000)]
    assert len(products) == len(env.sandbox.products(BUSINESS, include_obsolete=False))
    assert env.harness.call_count(PRODUCT_PAGES) == 1
    page = await ul.page(PRODUCTS, 1, page_size=1000)
    assert page.pagination.page_size == 1000
    assert page.pagination.number_of_pages == 1
    assert page.pagination.number_of_items == len(products)


async def test_page_returns_one_page_with_its_pagination(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    total = len(env.sandbox.products(BUSINESS, include_obsolete=False))
    page = await ul.page(PRODUCTS, 2, page_size=5)
    assert page.pagination.page_number == 2
    assert page.pagination.number_of_items == total
    assert page.pagination.number_of_pages == math.ceil(total / 5)
    assert len(page.items) == 5
    past_the_end = await ul.page(PRODUCTS, 99, page_size=5)
    assert past_the_end.items == ()


async def test_an_empty_list_takes_exactly_one_call(env: UlEnv, ul: UnleashedConnector) -> None:
    assert [p async for p in ul.iterate_products(product_code="NO-SUCH-CODE")] == []
    assert env.harness.call_count(PRODUCT_PAGES) == 1


async def test_bad_page_sizes_are_refused_before_any_call(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    with pytest.raises(ValueError, match="page_size"):
        await ul.page(PRODUCTS, page_size=1001)
    with pytest.raises(ValueError, match="page_size"):
        [p async for p in ul.iterate_customers(page_size=0)]
    with pytest.raises(ValueError, match="page numbers"):
        await ul.page(PRODUCTS, 0)
    assert env.harness.call_count() == 0


async def test_the_services_own_page_size_refusal_is_a_validation_error(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    with pytest.raises(IntegrationError) as caught:
        await ul.request(
            "GET",
            "/Products/{page}",
            path_params={"page": 1},
            params={"pageSize": "1001"},
            operation="raw_list",
        )
    assert caught.value.category is ErrorCategory.VALIDATION
    assert caught.value.status == 400 and not caught.value.retryable
    assert "pageSize" in caught.value.message
    assert env.harness.call_count(PRODUCT_PAGES) == 1


async def test_filters_with_characters_that_need_encoding_are_signed_right(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    odd = env.sandbox.create_product(BUSINESS, "ODD A+B/C,D:E", "Odd & awkward code")
    found = [p async for p in ul.iterate_products(product_code="ODD A+B/C,D:E")]
    assert [p.guid for p in found] == [odd.guid]
    customer = env.sandbox.create_customer(
        BUSINESS, "ODD/01", "Corner Store, Fitzroy", email="ops+orders@corner.example"
    )
    by_email = [c async for c in ul.iterate_customers(contact_email="ops+orders@corner.example")]
    assert [c.guid for c in by_email] == [customer.guid]
    by_name = [c async for c in ul.iterate_customers(customer_name="Store, Fitz")]
    assert [c.guid for c in by_name] == [customer.guid]
    since = datetime(2020, 1, 1, 12, 30, 45, tzinfo=UTC)  # ":" in the value
    assert [p async for p in ul.iterate_products(modified_since=since, page_size=1000)]


async def test_modified_since_returns_the_changed_product(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    target = env.sandbox.products(BUSINESS, include_obsolete=False)[3]
    env.clock.advance(hours=1)
    env.sandbox.update_product(BUSINESS, target.guid, description="Reformulated 2026")
    changed = [p async for p in ul.iterate_products(modified_since=env.clock())]
    assert [p.guid for p in changed] == [target.guid]
    assert changed[0].product_description == "Reformulated 2026"
    assert changed[0].last_modified_on == env.clock()
    assert changed[0].last_modified_on.tzinfo is UTC


async def test_modified_since_is_day_granular_so_windows_overlap(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    early = env.sandbox.products(BUSINESS, include_obsolete=False)[0]
    env.sandbox.update_product(BUSINESS, early.guid, sell_price=11.0)  # at 09:30
    later_the_same_day = START + timedelta(hours=5)
    again = [p async for p in ul.iterate_products(modified_since=later_the_same_day)]
    assert [p.guid for p in again] == [early.guid]  # callers de-duplicate by Guid
    next_day = START + timedelta(days=1)
    assert [p async for p in ul.iterate_products(modified_since=next_day)] == []


async def test_obsolete_products_only_when_asked(env: UlEnv, ul: UnleashedConnector) -> None:
    target = env.sandbox.products(BUSINESS, include_obsolete=False)[0]
    env.sandbox.update_product(BUSINESS, target.guid, is_obsolete=True)
    active = {p.guid async for p in ul.iterate_products()}
    everything = {p.guid async for p in ul.iterate_products(include_obsolete=True)}
    assert target.guid not in active and target.guid in everything
    assert everything == {p.guid for p in env.sandbox.products(BUSINESS)}
    page = await ul.page(PRODUCTS, params=products_query(include_obsolete=True))
    assert page.pagination.number_of_items == len(everything)


async def test_stock_on_hand_lists_filters_and_totals(env: UlEnv, ul: UnleashedConnector) -> None:
    lines = env.sandbox.stock(BUSINESS)
    rows = [s async for s in ul.iterate_stock(page_size=10)]
    assert len(rows) == len(lines)
    assert env.harness.call_count("/StockOnHand/{page:int}") == math.ceil(len(lines) / 10)
    code = lines[0].warehouse.code
    in_one = [s async for s in ul.iterate_stock(warehouse_code=code)]
    assert in_one and all(s.warehouse_code == code for s in in_one)
    assert len(in_one) == sum(1 for line in lines if line.warehouse.code == code)

    product = lines[0].product
    own = env.sandbox.stock(BUSINESS, product.guid)
    total = await ul.get_stock(product.guid)
    assert total.product_guid == product.guid
    assert total.qty_on_hand == pytest.approx(sum(line.qty_on_hand for line in own))
    there = await ul.get_stock(product.guid, warehouse_code=code)
    assert there.warehouse_code == code
    per_warehouse = await ul.get_stock_by_warehouse(product.guid)
    assert {s.warehouse_code for s in per_warehouse} == {line.warehouse.code for line in own}
    by_id = [s async for s in ul.iterate_stock(product_ids=[product.guid])]
    assert {s.product_guid for s in by_id} == {product.guid}


async def test_stock_modified_since_sees_a_stock_change(env: UlEnv, ul: UnleashedConnector) -> None:
    product = env.sandbox.stock(BUSINESS)[5].product
    env.clock.advance(days=2)
    env.sandbox.set_stock(BUSINESS, product.guid, qty_on_hand=123.0)
    changed = [s async for s in ul.iterate_stock(modified_since=env.clock())]
    assert [s.product_guid for s in changed] == [product.guid]
    assert changed[0].qty_on_hand == 123.0


async def test_customers_list_and_get(env: UlEnv, ul: UnleashedConnector) -> None:
    active = env.sandbox.customers(BUSINESS, include_obsolete=False)
    listed = [c async for c in ul.iterate_customers(page_size=6)]
    assert {c.guid for c in listed} == {c.guid for c in active}
    assert env.harness.call_count("/Customers/{page:int}") == math.ceil(len(active) / 6)
    prefix = active[0].code[:3]
    by_code = [c async for c in ul.iterate_customers(customer_code=prefix)]
    assert by_code and all(c.customer_code.startswith(prefix) for c in by_code)
    one = await ul.get_customer(active[0].guid)
    assert one.customer_code == active[0].code and one.guid == active[0].guid


async def test_sales_orders_by_status_customer_and_dates(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    orders = env.sandbox.orders(BUSINESS)
    wanted = {"Parked", "Completed"}
    listed = [o async for o in ul.iterate_sales_orders(order_status=sorted(wanted))]
    assert {o.guid for o in listed} == {o.guid for o in orders if o.status in wanted}
    assert all(o.order_status in wanted for o in listed)

    default = [o async for o in ul.iterate_sales_orders(page_size=9)]
    assert {o.guid for o in default} == {o.guid for o in orders if o.status != "Deleted"}

    customer = orders[0].customer.code
    theirs = [o async for o in ul.iterate_sales_orders(customer_code=customer)]
    assert theirs and all(o.customer.customer_code == customer for o in theirs)

    dated = sorted(o.order_ms for o in orders)
    start = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=dated[len(dated) // 2])
    recent = [o async for o in ul.iterate_sales_orders(start_date=start, end_date=START)]
    assert recent and all(o.order_date is not None and o.order_date >= start for o in recent)

    one = await ul.get_sales_order(orders[0].guid)
    assert one.order_number == orders[0].number
    assert len(one.sales_order_lines) == len(orders[0].lines)


async def test_warehouses_list_and_get(env: UlEnv, ul: UnleashedConnector) -> None:
    listed = [w async for w in ul.iterate_warehouses()]
    assert {w.warehouse_code for w in listed} == {w.code for w in env.sandbox.warehouses(BUSINESS)}
    one = await ul.get_warehouse(listed[0].guid)
    assert one == listed[0]


async def test_product_by_guid_and_unknown_guids(env: UlEnv, ul: UnleashedConnector) -> None:
    record = env.sandbox.products(BUSINESS)[2]
    product = await ul.get_product(record.guid.upper())
    assert product.guid == record.guid and product.product_code == record.code
    for call in (ul.get_product, ul.get_customer, ul.get_sales_order, ul.get_warehouse):
        with pytest.raises(IntegrationError) as caught:
            await call(uuid.uuid4())
        assert caught.value.category is ErrorCategory.NOT_FOUND
        assert caught.value.status == 404 and not caught.value.retryable
    with pytest.raises(IntegrationError) as caught:
        await ul.get_stock(uuid.uuid4())
    assert caught.value.category is ErrorCategory.NOT_FOUND
    # A 404 is an answer, not a failure: one call each, no retries.
    assert env.harness.call_count("/Products/{guid:uuid}") == 2
    assert env.harness.call_count("/Customers/{guid:uuid}") == 1


async def test_malformed_guids_never_leave_the_process(env: UlEnv, ul: UnleashedConnector) -> None:
    with pytest.raises(ValueError, match="not a Guid"):
        await ul.get_product("2")  # would otherwise read page 2
    with pytest.raises(ValueError, match="not a Guid"):
        await ul.complete_sales_order("SO-00000001")
    assert env.harness.call_count() == 0
