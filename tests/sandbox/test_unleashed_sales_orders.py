"""Contract: /SalesOrders (api-facts.md, "Unleashed")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from unleashed_fixtures import *  # noqa: F403
from unleashed_fixtures import Clock, UnleashedClient, wire_ms

from masterops_sandbox.unleashed import ORDER_STATUSES, UnleashedSandbox


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


async def test_statuses_and_deleted_excluded_by_default(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    orders = sandbox.orders("teelixir")
    seeded = {o.status for o in orders}
    assert {"Completed", "Deleted", "Placed"} <= seeded <= set(ORDER_STATUSES)
    items = await teelixir.all_items("/SalesOrders", {"pageSize": 1000})
    assert len(items) == len([o for o in orders if o.status != "Deleted"])
    assert "Deleted" not in {item["OrderStatus"] for item in items}

    chosen = await teelixir.all_items("/SalesOrders", {"orderStatus": "Completed,deleted"})
    assert {item["OrderStatus"] for item in chosen} == {"Completed", "Deleted"}
    assert len(chosen) == len([o for o in orders if o.status in ("Completed", "Deleted")])

    bad = await teelixir.get("/SalesOrders", {"orderStatus": "Shipped"})
    assert bad.status_code == 400


async def test_order_shape(teelixir: UnleashedClient) -> None:
    item = (await teelixir.get("/SalesOrders", {"pageSize": 1})).json()["Items"][0]
    for field in (
        "OrderNumber",
        "OrderDate",
        "RequiredDate",
        "OrderStatus",
        "Customer",
        "Warehouse",
        "Currency",
        "SalesOrderLines",
        "SubTotal",
        "TaxTotal",
        "Total",
        "Guid",
        "LastModifiedOn",
    ):
        assert field in item
    assert {"CustomerCode", "CustomerName", "Guid"} <= set(item["Customer"])
    assert "WarehouseCode" in item["Warehouse"]
    assert "CurrencyCode" in item["Currency"]
    line = item["SalesOrderLines"][0]
    for field in (
        "LineNumber",
        "Product",
        "OrderQuantity",
        "UnitPrice",
        "DiscountRate",
        "LineTotal",
        "LineTax",
        "Guid",
    ):
        assert field in line
    assert {"Guid", "ProductCode", "ProductDescription"} <= set(line["Product"])
    assert item["SubTotal"] == round(sum(li["LineTotal"] for li in item["SalesOrderLines"]), 2)
    assert item["Total"] == round(item["SubTotal"] + item["TaxTotal"], 2)


async def test_orders_span_about_ninety_days(sandbox: UnleashedSandbox, clock: Clock) -> None:
    now_ms = int(clock().timestamp() * 1000)
    ages = [(now_ms - o.order_ms) / 86_400_000 for o in sandbox.orders("elevate")]
    assert min(ages) > 0
    assert max(ages) <= 91


async def test_customer_number_and_date_filters(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    live = [o for o in sandbox.orders("teelixir") if o.status != "Deleted"]
    customer = live[0].customer
    items = await teelixir.all_items("/SalesOrders", {"customerCode": customer.code.lower()})
    assert {item["Customer"]["CustomerCode"] for item in items} == {customer.code}
    assert len(items) == len([o for o in live if o.customer is customer])

    number = live[3].number
    items = await teelixir.all_items("/SalesOrders", {"orderNumber": number})
    assert [item["OrderNumber"] for item in items] == [number]

    items = await teelixir.all_items(
        "/SalesOrders", {"startDate": "2026-02-01", "endDate": "2026-02-28"}
    )
    expected = [o for o in live if _ms("2026-02-01") <= o.order_ms < _ms("2026-03-01")]
    assert items and len(items) == len(expected)
    for item in items:
        assert _ms("2026-02-01") <= wire_ms(item["OrderDate"]) < _ms("2026-03-01")

    exact = await teelixir.all_items(
        "/SalesOrders", {"startDate": "2026-02-01", "endDate": "2026-02-28T12:00:00"}
    )
    assert all(wire_ms(item["OrderDate"]) <= _ms("2026-02-28T12:00:00") for item in exact)


async def test_modified_since_on_orders(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox, clock: Clock
) -> None:
    since = "2026-03-14"
    before = await teelixir.all_items("/SalesOrders", {"modifiedSince": since})
    expected = [
        o
        for o in sandbox.orders("teelixir")
        if o.status != "Deleted" and o.modified_ms >= _ms("2026-03-14")
    ]
    assert len(before) == len(expected)
    assert all(wire_ms(item["LastModifiedOn"]) >= _ms("2026-03-14") for item in before)


def _order_body(sandbox: UnleashedSandbox, **extra: Any) -> dict[str, Any]:
    customer = next(c for c in sandbox.customers("teelixir") if not c.obsolete)
    products = sandbox.products("teelixir", include_obsolete=False)[:2]
    return {
        "Customer": {"CustomerCode": customer.code},
        "Warehouse": {"WarehouseCode": sandbox.warehouses("teelixir")[0].code},
        "Currency": {"CurrencyCode": "AUD"},
        "OrderStatus": "Placed",
        "OrderDate": "/Date(1773532800000)/",
        "SalesOrderLines": [
            {"LineNumber": 1, "Product": {"Guid": products[0].guid}, "OrderQuantity": 3},
            {
                "LineNumber": 2,
                "Product": {"ProductCode": products[1].code},
                "OrderQuantity": 2,
                "UnitPrice": 10.0,
                "DiscountRate": 0.1,
            },
        ],
        **extra,
    }


async def test_create_order_computes_totals(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    guid = str(uuid.uuid4())
    body = _order_body(sandbox)
    response = await teelixir.post(f"/SalesOrders/{guid}", body)
    assert response.status_code == 201, response.text
    order = response.json()
    first = sandbox.product("teelixir", body["SalesOrderLines"][0]["Product"]["Guid"])
    first_total = round(3 * first.sell_price, 2)
    assert order["SalesOrderLines"][0]["LineTotal"] == first_total
    assert order["SalesOrderLines"][1]["LineTotal"] == 18.0
    assert order["SubTotal"] == round(first_total + 18.0, 2)
    assert order["TaxTotal"] == round(sum(line["LineTax"] for line in order["SalesOrderLines"]), 2)
    assert order["OrderStatus"] == "Placed"
    assert order["OrderDate"] == "/Date(1773532800000)/"
    assert order["OrderNumber"].startswith("SO-")
    fetched = await teelixir.get(f"/SalesOrders/{guid}")
    assert fetched.json() == order

    again = await teelixir.post(f"/SalesOrders/{guid}", body)
    assert again.status_code == 400


async def test_create_order_validation(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    bad_bodies = [
        _order_body(sandbox, Customer={"CustomerCode": "NOBODY"}),
        _order_body(
            sandbox,
            SalesOrderLines=[{"Product": {"ProductCode": "NOPE"}, "OrderQuantity": 1}],
        ),
        _order_body(sandbox, SalesOrderLines=[]),
        _order_body(sandbox, Warehouse={"WarehouseCode": "MARS"}),
        _order_body(sandbox, OrderStatus="Completed"),
        _order_body(sandbox, OrderDate="yesterday"),
    ]
    for body in bad_bodies:
        response = await teelixir.post(f"/SalesOrders/{uuid.uuid4()}", body)
        assert response.status_code == 400, body
        assert response.json()["description"]


async def test_complete_order_takes_stock_out(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox, clock: Clock
) -> None:
    guid = str(uuid.uuid4())
    body = _order_body(sandbox)
    await teelixir.post(f"/SalesOrders/{guid}", body)
    warehouse = body["Warehouse"]["WarehouseCode"]
    product = sandbox.product("teelixir", body["SalesOrderLines"][0]["Product"]["Guid"])
    before = sum(
        s.qty_on_hand
        for s in sandbox.stock("teelixir", product.guid)
        if s.warehouse.code == warehouse
    )
    clock.advance(minutes=5)
    response = await teelixir.post(f"/SalesOrders/{guid}/Complete", {})
    assert response.status_code == 200
    assert response.json()["OrderStatus"] == "Completed"
    assert response.json()["CompletedDate"] == response.json()["LastModifiedOn"]
    after = sum(
        s.qty_on_hand
        for s in sandbox.stock("teelixir", product.guid)
        if s.warehouse.code == warehouse
    )
    assert after == before - 3
    twice = await teelixir.post(f"/SalesOrders/{guid}/Complete", {})
    assert twice.status_code == 400


async def test_completing_a_deleted_order_is_400(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    deleted = sandbox.orders("teelixir", status="Deleted")[0]
    response = await teelixir.post(f"/SalesOrders/{deleted.guid}/Complete", {})
    assert response.status_code == 400
    assert "deleted" in response.json()["description"]
    missing = await teelixir.post(f"/SalesOrders/{uuid.uuid4()}/Complete", {})
    assert missing.status_code == 404
