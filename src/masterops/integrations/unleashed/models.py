"""Unleashed records as typed, read-only models.

Field names are snake_case; the JSON names are Unleashed's PascalCase (``ProductCode``),
produced by the alias generator, and either spelling is accepted when building one.
Dates (``/Date(ms)/``) become aware UTC datetimes. Fields the facts do not list are kept,
not dropped (``model_extra``), so a sync can still reach them without a model change.
Only the identifying fields are required: Unleashed leaves many others null.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from masterops.integrations.unleashed.dates import parse_wire_date


def _wire_date(value: Any) -> Any:
    if isinstance(value, str):
        return parse_wire_date(value)
    if isinstance(value, datetime):
        # An aware value from Python code is normalised; a naive one is UTC by contract.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value  # let pydantic report the wrong type


#: A ``/Date(ms)/`` field, as an aware UTC datetime.
WireDate = Annotated[datetime, BeforeValidator(_wire_date)]


class UnleashedModel(BaseModel):
    """Base of every Unleashed record: PascalCase aliases, extras kept, immutable."""

    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, extra="allow", frozen=True
    )


# ---- references nested in records ----


class ProductGroup(UnleashedModel):
    group_name: str | None = None
    guid: str | None = None


class UnitOfMeasure(UnleashedModel):
    name: str | None = None
    guid: str | None = None


class CurrencyRef(UnleashedModel):
    currency_code: str | None = None


class ProductRef(UnleashedModel):
    guid: str | None = None
    product_code: str | None = None
    product_description: str | None = None


class CustomerRef(UnleashedModel):
    guid: str | None = None
    customer_code: str | None = None
    customer_name: str | None = None


class WarehouseRef(UnleashedModel):
    guid: str | None = None
    warehouse_code: str | None = None
    warehouse_name: str | None = None


# ---- records ----


class Product(UnleashedModel):
    guid: str
    product_code: str
    product_description: str | None = None
    barcode: str | None = None
    default_sell_price: float | None = None
    default_purchase_price: float | None = None
    product_group: ProductGroup | None = None
    unit_of_measure: UnitOfMeasure | None = None
    weight: float | None = None
    is_obsolete: bool = False
    is_sellable: bool | None = None
    created_on: WireDate | None = None
    last_modified_on: WireDate | None = None


class StockOnHand(UnleashedModel):
    """One product's stock, in one warehouse (list rows) or summed over several (the
    per-product total, where the warehouse fields are null)."""

    guid: str | None = None
    product_guid: str
    product_code: str | None = None
    product_description: str | None = None
    product_group_name: str | None = None
    qty_on_hand: float = 0.0
    allocated_qty: float = 0.0
    available_qty: float = 0.0
    on_purchase: float | None = None
    avg_cost: float | None = None
    total_cost: float | None = None
    warehouse: str | None = None
    warehouse_id: str | None = None
    warehouse_code: str | None = None
    last_modified_on: WireDate | None = None


class Customer(UnleashedModel):
    guid: str
    customer_code: str
    customer_name: str | None = None
    email: str | None = None
    contact_first_name: str | None = None
    contact_last_name: str | None = None
    phone_number: str | None = None
    currency: CurrencyRef | None = None
    customer_type: str | None = None
    obsolete: bool = False
    created_on: WireDate | None = None
    last_modified_on: WireDate | None = None


class SalesOrderLine(UnleashedModel):
    guid: str | None = None
    line_number: int | None = None
    product: ProductRef
    order_quantity: float
    unit_price: float | None = None
    discount_rate: float | None = None
    line_total: float | None = None
    line_tax: float | None = None


class SalesOrder(UnleashedModel):
    guid: str
    order_number: str | None = None
    order_date: WireDate | None = None
    required_date: WireDate | None = None
    completed_date: WireDate | None = None
    order_status: str
    customer: CustomerRef
    warehouse: WarehouseRef | None = None
    currency: CurrencyRef | None = None
    comments: str | None = None
    sales_order_lines: list[SalesOrderLine] = Field(default_factory=list)
    tax_rate: float | None = None
    sub_total: float | None = None
    tax_total: float | None = None
    total: float | None = None
    created_on: WireDate | None = None
    last_modified_on: WireDate | None = None


class Warehouse(UnleashedModel):
    guid: str
    warehouse_code: str
    warehouse_name: str | None = None
    city: str | None = None
    is_default: bool = False
    obsolete: bool = False
    last_modified_on: WireDate | None = None


# ---- paging ----


class Pagination(UnleashedModel):
    number_of_items: int
    page_size: int
    page_number: int
    number_of_pages: int


R = TypeVar("R", bound=UnleashedModel)


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """One page of a list endpoint, as the service numbered it."""

    pagination: Pagination
    items: tuple[R, ...]

    @property
    def is_last(self) -> bool:
        # NumberOfPages is 0 for an empty list, so page 1 of nothing is also the last.
        return not self.items or self.pagination.page_number >= self.pagination.number_of_pages


@dataclass(frozen=True, slots=True)
class Resource(Generic[R]):
    """A list endpoint: its path segment (``/Products/{page}``), its record model and the
    noun used in operation names (``list_products``)."""

    path: str
    model: type[R]
    noun: str

    @property
    def page_template(self) -> str:
        return f"/{self.path}/{{page}}"

    @property
    def guid_template(self) -> str:
        return f"/{self.path}/{{guid}}"

    def parse_page(self, data: Any) -> Page[R]:
        """Validate ``{"Pagination": {...}, "Items": [...]}``; pydantic errors propagate."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        pagination = Pagination.model_validate(data.get("Pagination"))
        raw_items = data.get("Items")
        if not isinstance(raw_items, list):
            raise ValueError("the page has no Items list")
        items = tuple(self.model.model_validate(item) for item in raw_items)
        return Page(pagination=pagination, items=items)


PRODUCTS = Resource("Products", Product, "products")
STOCK_ON_HAND = Resource("StockOnHand", StockOnHand, "stock_on_hand")
CUSTOMERS = Resource("Customers", Customer, "customers")
SALES_ORDERS = Resource("SalesOrders", SalesOrder, "sales_orders")
WAREHOUSES = Resource("Warehouses", Warehouse, "warehouses")

#: The statuses a sales order can have (``Deleted`` is left out of lists unless asked for).
ORDER_STATUSES = ("Open", "Parked", "Placed", "Backordered", "Completed", "Deleted")
