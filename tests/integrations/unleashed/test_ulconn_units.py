"""Pure pieces of the Unleashed connector: signing, dates, filters, models, bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import ValidationError
from ulconn_helpers import BUSINESS, SEED

from masterops.integrations.unleashed import (
    PRODUCTS,
    Customer,
    CustomerInput,
    MonthlyQuotaGuard,
    Product,
    ProductInput,
    SalesOrder,
    SalesOrderInput,
    SalesOrderLineInput,
    StockOnHand,
    UnleashedSigner,
    Warehouse,
    canonical_guid,
    customers_query,
    first_of_next_month,
    format_filter_date,
    parse_wire_date,
    products_query,
    sales_orders_query,
    sign,
    stock_query,
    to_wire_date,
)
from masterops.integrations.unleashed.queries import check_page_size
from masterops.observability.events import TelemetryHub
from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.unleashed import UnleashedSandbox

# ---- signing ----


def _reference_signature(key: str, query: str) -> str:
    digest = hmac.new(key.encode(), query.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_sign_is_base64_hmac_sha256_of_the_query() -> None:
    query = "pageSize=2&productCode=A+B%2BC"
    assert sign("k3y", query) == _reference_signature("k3y", query)
    assert sign(b"k3y", query.encode()) == sign("k3y", query)
    assert sign("k3y", "") == _reference_signature("k3y", "")


def test_signer_signs_the_exact_query_bytes_httpx_sends() -> None:
    client = httpx.AsyncClient(base_url="http://x.test", auth=UnleashedSigner("id-1", "key-1"))
    params = {"productCode": "A B+C/D,E", "modifiedSince": "2026-01-02T03:04:05"}
    request = client.build_request("GET", "/Products/1", params=params)
    flow = client.auth.sync_auth_flow(request)  # type: ignore[union-attr]
    signed = next(flow)
    query = signed.url.query
    assert b"%2B" in query and b"%2F" in query and b"%2C" in query and b"%3A" in query
    assert signed.headers["api-auth-id"] == "id-1"
    assert signed.headers["api-auth-signature"] == _reference_signature("key-1", query.decode())


def test_signer_signs_the_empty_string_without_query_and_hides_its_key() -> None:
    signer = UnleashedSigner(" id-2 ", "very-secret-key")
    signed = next(signer.sync_auth_flow(httpx.Request("GET", "http://x.test/Warehouses")))
    assert signed.headers["api-auth-signature"] == _reference_signature("very-secret-key", "")
    assert signed.headers["api-auth-id"] == "id-2"
    assert "very-secret-key" not in repr(signer)
    with pytest.raises(ValueError):
        UnleashedSigner("", "k")
    with pytest.raises(ValueError):
        UnleashedSigner("id", "")


# ---- dates ----


def test_wire_dates_are_epoch_milliseconds_in_utc() -> None:
    moment = parse_wire_date("/Date(1473116400000)/")
    assert moment == datetime(2016, 9, 5, 23, 0, tzinfo=UTC)
    assert moment.tzinfo is UTC
    # The zone suffix is informational: the milliseconds are UTC already.
    assert parse_wire_date("/Date(1473116400000+1000)/") == moment
    assert parse_wire_date("/Date(-86400000)/") == datetime(1969, 12, 31, tzinfo=UTC)
    assert parse_wire_date("/Date(1473116400123)/").microsecond == 123_000


def test_wire_dates_accept_iso_and_refuse_garbage() -> None:
    assert parse_wire_date("2026-03-04T05:06:07") == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert parse_wire_date("2026-03-04T15:06:07+10:00") == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    for bad in ("/Date(abc)/", "yesterday", ""):
        with pytest.raises(ValueError):
            parse_wire_date(bad)


def test_to_wire_date_round_trips_and_refuses_naive() -> None:
    sydney = datetime(2026, 7, 1, 10, 0, 0, 250_000, tzinfo=ZoneInfo("Australia/Sydney"))
    wire = to_wire_date(sydney)
    assert wire == "/Date(1782864000250)/"
    assert parse_wire_date(wire) == sydney
    with pytest.raises(ValueError, match="timezone-aware"):
        to_wire_date(datetime(2026, 7, 1))


def test_filter_dates_are_utc_whole_seconds() -> None:
    local = datetime(2026, 7, 1, 10, 0, 5, 999_000, tzinfo=timezone(timedelta(hours=10)))
    assert format_filter_date(local) == "2026-07-01T00:00:05"
    assert format_filter_date(date(2026, 2, 3)) == "2026-02-03"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_filter_date(datetime(2026, 7, 1, 10))


def test_first_of_next_month_is_the_reset() -> None:
    assert first_of_next_month(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == datetime(
        2026, 12, 1, tzinfo=UTC
    )
    assert first_of_next_month(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    # 20:00 on 30 Nov in New York is already December in UTC.
    ny = datetime(2026, 11, 30, 20, 0, tzinfo=ZoneInfo("America/New_York"))
    assert first_of_next_month(ny) == datetime(2027, 1, 1, tzinfo=UTC)


# ---- filters ----


def test_filters_keep_their_order_and_leave_out_defaults() -> None:
    since = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert list(products_query(modified_since=since, product_code="TLX").items()) == [
        ("productCode", "TLX"),
        ("modifiedSince", "2026-01-02T03:04:05"),
    ]
    assert products_query() == {}
    assert products_query(include_obsolete=True) == {"includeObsolete": "true"}
    assert stock_query(warehouse_code="MEL", product_ids=["a", "b"]) == {
        "warehouseCode": "MEL",
        "productId": "a,b",
    }
    assert customers_query(customer_name="Health Foods", contact_email="a+b@x.au") == {
        "customerName": "Health Foods",
        "contactEmail": "a+b@x.au",
    }


def test_order_statuses_are_normalised_and_checked() -> None:
    query = sales_orders_query(
        order_status=["parked", "Placed", "PARKED"],
        start_date=date(2026, 1, 1),
        end_date=date(2026, 1, 31),
    )
    assert query == {
        "orderStatus": "Parked,Placed",
        "startDate": "2026-01-01",
        "endDate": "2026-01-31",
    }
    assert sales_orders_query(order_status="Completed") == {"orderStatus": "Completed"}
    with pytest.raises(ValueError, match="unknown order status"):
        sales_orders_query(order_status=["Shipped"])
    with pytest.raises(ValueError, match="empty"):
        sales_orders_query(order_status=[])


def test_page_size_and_guid_checks() -> None:
    assert check_page_size(1) == 1 and check_page_size(1000) == 1000
    for size in (0, 1001, -5):
        with pytest.raises(ValueError, match="page_size"):
            check_page_size(size)
    guid = uuid.uuid4()
    assert canonical_guid(str(guid).upper()) == str(guid)
    assert canonical_guid(guid) == str(guid)
    for bad in ("2", "not-a-guid", ""):
        with pytest.raises(ValueError, match="not a Guid"):
            canonical_guid(bad)


# ---- models read from the sandbox's own JSON ----


@pytest.fixture(scope="module")
def sandbox() -> UnleashedSandbox:
    return UnleashedSandbox(sandbox_accounts(SEED), seed=SEED, volume=20)


def test_records_parse_with_aware_utc_dates(sandbox: UnleashedSandbox) -> None:
    product_record = sandbox.products(BUSINESS)[0]
    product = Product.model_validate(sandbox.to_json(product_record))
    assert product.guid == product_record.guid
    assert product.product_code == product_record.code
    assert product.last_modified_on is not None and product.last_modified_on.tzinfo is UTC
    assert product.last_modified_on == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        milliseconds=product_record.modified_ms
    )
    assert product.product_group is not None and product.product_group.group_name
    assert product.model_extra is not None  # unknown fields are kept, not dropped

    order_record = sandbox.orders(BUSINESS)[0]
    order = SalesOrder.model_validate(sandbox.to_json(order_record))
    assert order.order_number == order_record.number
    assert order.customer.customer_code == order_record.customer.code
    assert len(order.sales_order_lines) == len(order_record.lines)
    assert order.order_date is not None and order.order_date.tzinfo is UTC
    assert order.sales_order_lines[0].product.guid == order_record.lines[0].product.guid

    stock = StockOnHand.model_validate(sandbox.to_json(sandbox.stock(BUSINESS)[0]))
    assert stock.available_qty == pytest.approx(stock.qty_on_hand - stock.allocated_qty)
    customer = Customer.model_validate(sandbox.to_json(sandbox.customers(BUSINESS)[0]))
    assert customer.currency is not None and customer.currency.currency_code
    warehouse = Warehouse.model_validate(sandbox.to_json(sandbox.warehouses(BUSINESS)[0]))
    assert warehouse.warehouse_code


def test_page_parsing_refuses_a_wrong_shape() -> None:
    page = PRODUCTS.parse_page(
        {
            "Pagination": {
                "NumberOfItems": 0,
                "PageSize": 200,
                "PageNumber": 1,
                "NumberOfPages": 0,
            },
            "Items": [],
        }
    )
    assert page.items == () and page.is_last
    with pytest.raises(ValueError):
        PRODUCTS.parse_page({"Pagination": {"PageNumber": 1}, "Items": []})
    with pytest.raises(ValueError):
        PRODUCTS.parse_page([])


# ---- bodies ----


def test_inputs_render_unleashed_bodies() -> None:
    guid = str(uuid.uuid4())
    body = ProductInput(
        product_code="X-1", product_description="Thing", product_group="Herbs", weight=0.2
    ).to_body(guid)
    assert body == {
        "Guid": guid,
        "ProductCode": "X-1",
        "ProductDescription": "Thing",
        "ProductGroup": {"GroupName": "Herbs"},
        "Weight": 0.2,
    }
    customer = CustomerInput(customer_code="C1", customer_name="Shop", currency_code="AUD")
    assert customer.to_body(guid)["Currency"] == {"CurrencyCode": "AUD"}
    order = SalesOrderInput(
        customer_code="C1",
        order_date=datetime(2026, 1, 2, tzinfo=UTC),
        lines=[SalesOrderLineInput(product_code="X-1", order_quantity=2)],
    ).to_body(guid)
    assert order["OrderDate"] == "/Date(1767312000000)/"
    assert order["SalesOrderLines"] == [
        {"LineNumber": 1, "Product": {"ProductCode": "X-1"}, "OrderQuantity": 2.0}
    ]
    assert order["OrderStatus"] == "Parked"


def test_inputs_refuse_incomplete_orders() -> None:
    line = SalesOrderLineInput(product_guid=str(uuid.uuid4()), order_quantity=1)
    with pytest.raises(ValidationError, match="customer"):
        SalesOrderInput(lines=[line])
    with pytest.raises(ValidationError):
        SalesOrderInput(customer_code="C1", lines=[])
    with pytest.raises(ValidationError, match="product"):
        SalesOrderLineInput(order_quantity=1)
    with pytest.raises(ValidationError):
        SalesOrderLineInput(product_code="X", order_quantity=0)


def test_quota_guard_thresholds_are_exact_call_counts() -> None:
    guard = MonthlyQuotaGuard(
        None,  # type: ignore[arg-type]  # no database needed to size thresholds
        account=BUSINESS,
        ceiling=15_000,
        hub=TelemetryHub(),
    )
    assert guard.thresholds == ((90, 13_500), (95, 14_250))
    odd = MonthlyQuotaGuard(
        None,  # type: ignore[arg-type]
        account=BUSINESS,
        ceiling=7,
        hub=TelemetryHub(),
        warn_at=(0.5, 0.955),
    )
    assert odd.thresholds == ((50, 4), (95.5, 7))
    for bad in ({"ceiling": 0}, {"warn_at": (1.0,)}, {"account": ""}):
        kwargs = {"account": BUSINESS, "ceiling": 10, "hub": TelemetryHub(), **bad}
        with pytest.raises(ValueError):
            MonthlyQuotaGuard(None, **kwargs)  # type: ignore[arg-type]
