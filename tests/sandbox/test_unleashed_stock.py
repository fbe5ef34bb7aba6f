"""Contract: /StockOnHand (api-facts.md, "Unleashed")."""

from __future__ import annotations

import uuid

from unleashed_fixtures import *  # noqa: F403
from unleashed_fixtures import FIXED_NOW, Clock, UnleashedClient, wire_ms

from masterops_sandbox.unleashed import UnleashedSandbox

FIELDS = {
    "Guid",
    "ProductGuid",
    "ProductCode",
    "ProductDescription",
    "QtyOnHand",
    "AllocatedQty",
    "AvailableQty",
    "OnPurchase",
    "AvgCost",
    "TotalCost",
    "Warehouse",
    "WarehouseCode",
    "LastModifiedOn",
}


async def test_rows_are_per_product_and_warehouse(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    items = await teelixir.all_items("/StockOnHand", {"pageSize": 100})
    assert len(items) == len(sandbox.stock("teelixir"))
    pairs = {(item["ProductGuid"], item["WarehouseCode"]) for item in items}
    assert len(pairs) == len(items)
    for item in items:
        assert set(item) >= FIELDS
        assert item["AvailableQty"] == item["QtyOnHand"] - item["AllocatedQty"]
        assert item["TotalCost"] == round(item["QtyOnHand"] * item["AvgCost"], 2)
    # Most products are held in more than one warehouse somewhere.
    assert len({guid for guid, _ in pairs}) < len(items)


async def test_products_without_transactions_are_omitted(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    never = [p for p in sandbox.products("teelixir") if not sandbox.stock("teelixir", p.guid)]
    assert never, "the seed leaves some products untouched"
    items = await teelixir.all_items("/StockOnHand", {"pageSize": 1000})
    listed = {item["ProductGuid"] for item in items}
    assert not listed & {p.guid for p in never}

    sandbox.set_stock("teelixir", never[0].code, qty_on_hand=12)
    items = await teelixir.all_items("/StockOnHand", {"pageSize": 1000})
    assert never[0].guid in {item["ProductGuid"] for item in items}


async def test_warehouse_code_filter(teelixir: UnleashedClient, sandbox: UnleashedSandbox) -> None:
    code = sandbox.warehouses("teelixir")[1].code
    items = await teelixir.all_items("/StockOnHand", {"warehouseCode": code.lower()})
    assert items and {item["WarehouseCode"] for item in items} == {code}
    expected = [s for s in sandbox.stock("teelixir") if s.warehouse.code == code]
    assert len(items) == len(expected)


async def test_product_id_filter(teelixir: UnleashedClient, sandbox: UnleashedSandbox) -> None:
    lines = sandbox.stock("teelixir")
    wanted = {lines[0].product.guid, lines[-1].product.guid}
    items = await teelixir.all_items("/StockOnHand", {"productId": ",".join(sorted(wanted))})
    assert {item["ProductGuid"] for item in items} == wanted


async def test_modified_since_finds_changed_stock_only(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox, clock: Clock
) -> None:
    assert (await teelixir.get("/StockOnHand", {"modifiedSince": "2026-03-15"})).json()[
        "Items"
    ] == []
    product = sandbox.stock("teelixir")[5].product
    clock.advance(hours=1)
    line = sandbox.set_stock("teelixir", product.guid, qty_on_hand=77, allocated_qty=7)
    items = (await teelixir.get("/StockOnHand", {"modifiedSince": "2026-03-15"})).json()["Items"]
    assert [item["Guid"] for item in items] == [line.guid]
    assert items[0]["QtyOnHand"] == 77 and items[0]["AvailableQty"] == 70
    assert wire_ms(items[0]["LastModifiedOn"]) == int(FIXED_NOW.timestamp() * 1000) + 3_600_000
    # The product itself did not change.
    products = await teelixir.get("/Products", {"modifiedSince": "2026-03-15"})
    assert products.json()["Items"] == []


async def test_one_product_totals_and_per_warehouse(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    product = next(
        p for p in sandbox.products("teelixir") if len(sandbox.stock("teelixir", p.guid)) > 1
    )
    lines = sandbox.stock("teelixir", product.guid)
    total = (await teelixir.get(f"/StockOnHand/{product.guid}")).json()
    assert total["ProductGuid"] == product.guid
    assert total["QtyOnHand"] == sum(line.qty_on_hand for line in lines)
    assert total["WarehouseCode"] is None

    one = lines[0].warehouse.code
    single = await teelixir.get(f"/StockOnHand/{product.guid}", {"warehouseCode": one})
    assert single.json()["QtyOnHand"] == lines[0].qty_on_hand
    assert single.json()["WarehouseCode"] == one

    per = (await teelixir.get(f"/StockOnHand/{product.guid}/AllWarehouses")).json()
    assert len(per["Items"]) == len(lines)
    assert {item["WarehouseCode"] for item in per["Items"]} == {
        line.warehouse.code for line in lines
    }


async def test_unknown_product_stock_is_404(teelixir: UnleashedClient) -> None:
    response = await teelixir.get(f"/StockOnHand/{uuid.uuid4()}")
    assert response.status_code == 404
