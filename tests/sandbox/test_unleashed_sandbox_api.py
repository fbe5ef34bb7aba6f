"""The Python API that tests, the demo and benchmarks use to steer the sandbox."""

from __future__ import annotations

import pytest
from unleashed_fixtures import *  # noqa: F403
from unleashed_fixtures import FIXED_NOW, Clock, UnleashedClient

from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.unleashed import (
    NotFound,
    UnleashedSandbox,
    ValidationFailed,
    create_unleashed,
)


def test_lookup_by_guid_or_code(sandbox: UnleashedSandbox) -> None:
    product = sandbox.products("elevate")[0]
    assert sandbox.product("elevate", product.guid) is product
    assert sandbox.product("elevate", product.code.lower()) is product
    order = sandbox.orders("elevate")[0]
    assert sandbox.order("elevate", order.number) is order
    with pytest.raises(NotFound):
        sandbox.product("elevate", "NOPE")
    with pytest.raises(NotFound):
        sandbox.products("nobody")


def test_update_product_moves_last_modified(sandbox: UnleashedSandbox, clock: Clock) -> None:
    product = sandbox.products("teelixir")[0]
    clock.advance(minutes=3)
    sandbox.update_product("teelixir", product.code, description="New words", sell_price=9.5)
    assert product.description == "New words"
    assert product.modified_ms == int(FIXED_NOW.timestamp() * 1000) + 180_000
    with pytest.raises(ValidationFailed):
        sandbox.update_product("teelixir", product.code, colour="red")
    other = sandbox.products("teelixir")[1]
    with pytest.raises(ValidationFailed):
        sandbox.update_product("teelixir", other.code, code=product.code)


async def test_changes_show_in_the_api(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    product = sandbox.create_product("teelixir", "TLX-DEMO-1", "Demo Reishi 10g", sell_price=5.0)
    line = sandbox.set_stock("teelixir", "TLX-DEMO-1", qty_on_hand=40, allocated_qty=4)
    got = (await teelixir.get(f"/StockOnHand/{product.guid}")).json()
    assert got["QtyOnHand"] == 40 and got["AvailableQty"] == 36
    assert line.warehouse.is_default

    customer = sandbox.create_customer("teelixir", "DEMO1", "Demo Cafe", currency="NZD")
    order = sandbox.create_order("teelixir", "DEMO1", [("TLX-DEMO-1", 4)], status="Placed")
    assert order.customer is customer
    assert order.sub_total == 20.0 and order.tax_total == 0.0  # no GST outside AUD
    sandbox.set_order_status("teelixir", order.number, "Deleted")
    response = await teelixir.post(f"/SalesOrders/{order.guid}/Complete", {})
    assert response.status_code == 400


def test_counts_and_create_unleashed(clock: Clock) -> None:
    harness = create_unleashed(sandbox_accounts(3), seed=3, volume=10, now=clock)
    assert harness.name == "unleashed"
    state = harness.state()
    assert set(state["accounts"]) == {"teelixir", "elevate", "boo", "rhf"}
    assert state["accounts"]["boo"]["products"] == 10
    assert state["blocked_status"] == 429


async def test_dropping_a_line_shows_in_the_api(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox, clock: Clock
) -> None:
    sandbox.create_product("teelixir", "TLX-DROP-1", "Drop One", sell_price=5.0)
    sandbox.create_product("teelixir", "TLX-DROP-2", "Drop Two", sell_price=7.0)
    sandbox.create_customer("teelixir", "DROP1", "Drop Cafe", currency="NZD")
    order = sandbox.create_order("teelixir", "DROP1", [("TLX-DROP-1", 2), ("TLX-DROP-2", 1)])
    before = order.modified_ms
    clock.advance(minutes=1)

    sandbox.drop_order_line("teelixir", order.number, 1)

    got = (await teelixir.get(f"/SalesOrders/{order.guid}")).json()
    assert [line["LineNumber"] for line in got["SalesOrderLines"]] == [2]
    assert got["SubTotal"] == 7.0
    assert order.modified_ms > before
    with pytest.raises(ValidationFailed):
        sandbox.drop_order_line("teelixir", order.number, 1)  # no such line any more
    with pytest.raises(ValidationFailed):
        sandbox.drop_order_line("teelixir", order.number, 2)  # an order keeps one line
