"""Writing to Unleashed: product and customer upserts, sales orders created and completed,
idempotent under retries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from ulconn_helpers import BUSINESS, PATIENT_BREAKER, UlEnv

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.unleashed import (
    CustomerInput,
    ProductInput,
    SalesOrderInput,
    SalesOrderLineInput,
    UnleashedConnector,
)


async def test_save_product_creates_then_updates_by_guid(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    created = await ul.save_product(
        ProductInput(
            product_code="NEW-001",
            product_description="New Tonic 100g",
            default_sell_price=39.95,
            product_group="Tonic Herbs",
        )
    )
    stored = env.sandbox.product(BUSINESS, created.guid)
    assert stored.code == "NEW-001" and stored.sell_price == 39.95
    assert created.last_modified_on == env.clock()

    env.clock.advance(minutes=5)
    updated = await ul.save_product(
        ProductInput(
            product_code="NEW-001", product_description="New Tonic 100g", default_sell_price=42.0
        ),
        guid=created.guid,
    )
    assert updated.guid == created.guid and updated.default_sell_price == 42.0
    assert env.sandbox.product(BUSINESS, created.guid).sell_price == 42.0
    assert env.harness.call_count("/Products/{guid:uuid}", "POST") == 2


async def test_save_customer_creates_then_updates(env: UlEnv, ul: UnleashedConnector) -> None:
    guid = uuid.uuid4()
    created = await ul.save_customer(
        CustomerInput(customer_code="NEWC01", customer_name="New Shop", currency_code="AUD"),
        guid=guid,
    )
    assert created.guid == str(guid)
    renamed = await ul.save_customer(
        CustomerInput(customer_code="NEWC01", customer_name="New Shop Pty Ltd", email="a@b.au"),
        guid=guid,
    )
    assert renamed.customer_name == "New Shop Pty Ltd"
    assert env.sandbox.customer(BUSINESS, "NEWC01").email == "a@b.au"


async def test_a_refused_write_is_a_validation_error(env: UlEnv, ul: UnleashedConnector) -> None:
    taken = env.sandbox.products(BUSINESS)[0].code
    with pytest.raises(IntegrationError) as caught:
        await ul.save_product(ProductInput(product_code=taken, product_description="Clash"))
    assert caught.value.category is ErrorCategory.VALIDATION
    assert caught.value.status == 400 and not caught.value.retryable
    assert env.harness.call_count("/Products/{guid:uuid}", "POST") == 1


def _order(env: UlEnv, quantity: float = 3) -> SalesOrderInput:
    customer = env.sandbox.customers(BUSINESS, include_obsolete=False)[0]
    product = env.sandbox.products(BUSINESS, include_obsolete=False)[0]
    return SalesOrderInput(
        customer_code=customer.code,
        warehouse_code=env.sandbox.warehouses(BUSINESS)[0].code,
        order_date=datetime(2026, 11, 19, tzinfo=UTC),
        comments="test order",
        lines=[SalesOrderLineInput(product_guid=product.guid, order_quantity=quantity)],
    )


async def test_create_and_complete_a_sales_order(env: UlEnv, ul: UnleashedConnector) -> None:
    order_input = _order(env, quantity=4)
    created = await ul.create_sales_order(order_input)
    assert created.order_status == "Parked"
    assert created.order_date == datetime(2026, 11, 19, tzinfo=UTC)
    assert created.customer.customer_code == order_input.customer_code
    line = created.sales_order_lines[0]
    assert line.order_quantity == 4 and line.line_total is not None
    assert created.total is not None and created.total > 0
    assert env.sandbox.order(BUSINESS, created.guid).number == created.order_number

    product = line.product.guid
    assert product is not None and created.warehouse is not None
    before = await ul.get_stock(product, warehouse_code=created.warehouse.warehouse_code)
    completed = await ul.complete_sales_order(created.guid)
    assert completed.order_status == "Completed" and completed.completed_date is not None
    after = await ul.get_stock(product, warehouse_code=created.warehouse.warehouse_code)
    assert after.qty_on_hand == pytest.approx(before.qty_on_hand - 4)


async def test_creating_the_same_order_twice_returns_the_first(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    guid = uuid.uuid4()  # e.g. derived from a workflow id, so a re-run step reuses it
    first = await ul.create_sales_order(_order(env), guid=guid)
    again = await ul.create_sales_order(_order(env), guid=guid)
    assert again.guid == first.guid == str(guid)
    assert again.order_number == first.order_number
    assert sum(1 for o in env.sandbox.orders(BUSINESS) if o.guid == str(guid)) == 1


async def test_completing_twice_returns_the_completed_order(
    env: UlEnv, ul: UnleashedConnector
) -> None:
    created = await ul.create_sales_order(_order(env))
    await ul.complete_sales_order(created.guid)
    again = await ul.complete_sales_order(created.guid)
    assert again.order_status == "Completed"


async def test_a_refused_order_is_raised_as_it_came(env: UlEnv, ul: UnleashedConnector) -> None:
    bad = SalesOrderInput(
        customer_code="NO-SUCH-CUSTOMER",
        lines=[SalesOrderLineInput(product_code="NO-SUCH-PRODUCT", order_quantity=1)],
    )
    with pytest.raises(IntegrationError) as caught:
        await ul.create_sales_order(bad)
    assert caught.value.category is ErrorCategory.VALIDATION
    assert "does not exist" in caught.value.message
    with pytest.raises(IntegrationError) as missing:
        await ul.complete_sales_order(uuid.uuid4())
    assert missing.value.category is ErrorCategory.NOT_FOUND


async def test_a_deleted_order_cannot_be_completed(env: UlEnv, ul: UnleashedConnector) -> None:
    created = await ul.create_sales_order(_order(env))
    env.sandbox.set_order_status(BUSINESS, created.guid, "Deleted")
    with pytest.raises(IntegrationError) as caught:
        await ul.complete_sales_order(created.guid)
    assert caught.value.category is ErrorCategory.VALIDATION
    assert "deleted" in caught.value.message


async def test_order_creation_is_retried_after_5xx_and_lands_once(env: UlEnv) -> None:
    env.harness.faults.configure(rate_5xx=0.6, path_pattern="^/SalesOrders/", seed=3)
    async with env.connect(breaker=PATIENT_BREAKER) as ul:
        created = await ul.create_sales_order(_order(env))
    injected = env.harness.faults.injected.get("5xx", 0)
    assert injected >= 1
    # Faulted attempts never reach the router, so only the one that landed has a template.
    assert env.harness.call_count("/SalesOrders/{guid:uuid}", "POST") == 1
    assert env.harness.call_count(method="POST") == injected + 1
    assert sum(1 for o in env.sandbox.orders(BUSINESS) if o.guid == created.guid) == 1
