"""Request bodies of the Unleashed create and update calls.

Each input knows how to render itself as the JSON the API reads (``to_body``): PascalCase
names, nested references (``{"Currency": {"CurrencyCode": "AUD"}}``), dates as
``/Date(ms)/``, and nothing for fields left unset, so an update touches only what it names.
The record's Guid goes into the body as well as the path, as the API expects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from masterops.integrations.unleashed.dates import to_wire_date


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


class ProductInput(_Input):
    """A product to create or update (``POST /Products/{guid}`` is an upsert)."""

    product_code: str = Field(min_length=1)
    product_description: str = Field(min_length=1)
    barcode: str | None = None
    default_sell_price: float | None = None
    default_purchase_price: float | None = None
    product_group: str | None = None
    unit_of_measure: str | None = None
    weight: float | None = None
    is_obsolete: bool | None = None

    def to_body(self, guid: str) -> dict[str, Any]:
        return _present(
            {
                "Guid": guid,
                "ProductCode": self.product_code,
                "ProductDescription": self.product_description,
                "Barcode": self.barcode,
                "DefaultSellPrice": self.default_sell_price,
                "DefaultPurchasePrice": self.default_purchase_price,
                "ProductGroup": _ref("GroupName", self.product_group),
                "UnitOfMeasure": _ref("Name", self.unit_of_measure),
                "Weight": self.weight,
                "IsObsolete": self.is_obsolete,
            }
        )


class CustomerInput(_Input):
    """A customer to create or update (``POST /Customers/{guid}`` is an upsert)."""

    customer_code: str = Field(min_length=1)
    customer_name: str = Field(min_length=1)
    email: str | None = None
    contact_first_name: str | None = None
    contact_last_name: str | None = None
    phone_number: str | None = None
    currency_code: str | None = None
    customer_type: str | None = None
    obsolete: bool | None = None

    def to_body(self, guid: str) -> dict[str, Any]:
        return _present(
            {
                "Guid": guid,
                "CustomerCode": self.customer_code,
                "CustomerName": self.customer_name,
                "Email": self.email,
                "ContactFirstName": self.contact_first_name,
                "ContactLastName": self.contact_last_name,
                "PhoneNumber": self.phone_number,
                "Currency": _ref("CurrencyCode", self.currency_code),
                "CustomerType": self.customer_type,
                "Obsolete": self.obsolete,
            }
        )


class SalesOrderLineInput(_Input):
    """One line: the product by Guid or code, a positive quantity; the unit price defaults
    to the product's sell price on the service's side."""

    product_guid: str | None = None
    product_code: str | None = None
    order_quantity: float = Field(gt=0)
    unit_price: float | None = None
    discount_rate: float | None = Field(default=None, ge=0, le=1)
    line_number: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _needs_product(self) -> Self:
        if not (self.product_guid or self.product_code):
            raise ValueError("a sales order line needs product_guid or product_code")
        return self

    def to_body(self, index: int) -> dict[str, Any]:
        return _present(
            {
                "LineNumber": self.line_number or index + 1,
                "Product": _present({"Guid": self.product_guid, "ProductCode": self.product_code}),
                "OrderQuantity": self.order_quantity,
                "UnitPrice": self.unit_price,
                "DiscountRate": self.discount_rate,
            }
        )


class SalesOrderInput(_Input):
    """A sales order to create. Totals are the service's to compute and are not sent.
    New orders may be Open, Parked, Placed or Backordered; completing is a separate call."""

    customer_guid: str | None = None
    customer_code: str | None = None
    lines: list[SalesOrderLineInput] = Field(min_length=1)
    warehouse_code: str | None = None
    order_status: str = "Parked"
    order_number: str | None = None
    order_date: datetime | None = None
    required_date: datetime | None = None
    currency_code: str | None = None
    comments: str | None = None

    @model_validator(mode="after")
    def _needs_customer(self) -> Self:
        if not (self.customer_guid or self.customer_code):
            raise ValueError("a sales order needs customer_guid or customer_code")
        return self

    def to_body(self, guid: str) -> dict[str, Any]:
        return _present(
            {
                "Guid": guid,
                "OrderStatus": self.order_status,
                "OrderNumber": self.order_number,
                "OrderDate": _date(self.order_date),
                "RequiredDate": _date(self.required_date),
                "Customer": _present(
                    {"Guid": self.customer_guid, "CustomerCode": self.customer_code}
                ),
                "Warehouse": _ref("WarehouseCode", self.warehouse_code),
                "Currency": _ref("CurrencyCode", self.currency_code),
                "Comments": self.comments,
                "SalesOrderLines": [line.to_body(i) for i, line in enumerate(self.lines)],
            }
        )


def _ref(field: str, value: str | None) -> dict[str, str] | None:
    return None if value is None else {field: value}


def _date(moment: datetime | None) -> str | None:
    return None if moment is None else to_wire_date(moment)
