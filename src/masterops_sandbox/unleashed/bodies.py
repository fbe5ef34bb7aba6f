"""Request bodies of the Unleashed POST endpoints, read into store arguments.

Names are Unleashed's PascalCase; fields the API computes or owns
(``LastModifiedOn``, totals, ``OrderNumber`` when absent) are ignored when sent.
A wrong type, an unknown customer, product or warehouse, or a ``Guid`` in the
body that differs from the one in the path is a 400 with a description.
"""

from __future__ import annotations

import json
from typing import Any

from masterops_sandbox.unleashed.dates import parse_body_date
from masterops_sandbox.unleashed.errors import ValidationFailed
from masterops_sandbox.unleashed.orders import LineSpec
from masterops_sandbox.unleashed.records import Customer, Warehouse
from masterops_sandbox.unleashed.store import BusinessStore

Body = dict[str, Any]


def parse_json(raw: bytes) -> Body:
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise ValidationFailed(f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ValidationFailed("The request body must be a JSON object")
    return body


def check_guid(body: Body, guid: str) -> None:
    sent = body.get("Guid")
    if sent is not None and str(sent).lower() != guid.lower():
        raise ValidationFailed(f"The Guid in the body ({sent}) differs from the one in the URL")


def _text(body: Body, name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise ValidationFailed(f"{name} must be a string")


def _number(body: Body, name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed(f"{name} must be a number")
    return float(value)


def _flag(body: Body, name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise ValidationFailed(f"{name} must be true or false")


def _nested_text(body: Body, name: str, field: str) -> str | None:
    """``{"ProductGroup": {"GroupName": "x"}}``; a plain string is accepted too."""
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _text(value, field)
    raise ValidationFailed(f"{name} must be an object with {field}")


def _present(pairs: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in pairs.items() if value is not None}


def product_changes(body: Body) -> dict[str, Any]:
    return _present(
        {
            "code": _text(body, "ProductCode"),
            "description": _text(body, "ProductDescription"),
            "barcode": _text(body, "Barcode"),
            "sell_price": _number(body, "DefaultSellPrice"),
            "purchase_price": _number(body, "DefaultPurchasePrice"),
            "group_name": _nested_text(body, "ProductGroup", "GroupName"),
            "unit": _nested_text(body, "UnitOfMeasure", "Name"),
            "weight": _number(body, "Weight"),
            "is_obsolete": _flag(body, "IsObsolete"),
        }
    )


def customer_changes(body: Body) -> dict[str, Any]:
    return _present(
        {
            "code": _text(body, "CustomerCode"),
            "name": _text(body, "CustomerName"),
            "email": _text(body, "Email"),
            "first_name": _text(body, "ContactFirstName"),
            "last_name": _text(body, "ContactLastName"),
            "phone": _text(body, "PhoneNumber"),
            "currency": _nested_text(body, "Currency", "CurrencyCode"),
            "customer_type": _text(body, "CustomerType"),
            "obsolete": _flag(body, "Obsolete"),
        }
    )


def _reference(body: Body, name: str) -> Body | None:
    value = body.get(name)
    if value is None or isinstance(value, dict):
        return value
    raise ValidationFailed(f"{name} must be an object")


def _customer(store: BusinessStore, body: Body) -> Customer:
    ref = _reference(body, "Customer")
    if not ref:
        raise ValidationFailed("Customer is required (with Guid or CustomerCode)")
    guid, code = _text(ref, "Guid"), _text(ref, "CustomerCode")
    found = (store.customers.get(guid) if guid else None) or (
        store.customer_by_code(code) if code else None
    )
    if found is None:
        raise ValidationFailed(f"Customer '{guid or code}' does not exist")
    return found


def _warehouse(store: BusinessStore, body: Body) -> Warehouse | None:
    ref = _reference(body, "Warehouse")
    if not ref:
        return None
    guid, code = _text(ref, "Guid"), _text(ref, "WarehouseCode")
    found = (store.warehouses.get(guid) if guid else None) or (
        store.warehouse_by_code(code) if code else None
    )
    if found is None:
        raise ValidationFailed(f"Warehouse '{guid or code}' does not exist")
    return found


def _lines(store: BusinessStore, body: Body) -> list[LineSpec]:
    raw = body.get("SalesOrderLines")
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed("SalesOrderLines must be a non-empty list")
    specs = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ValidationFailed(f"Line {index} must be an object")
        ref = _reference(item, "Product") or {}
        guid, code = _text(ref, "Guid"), _text(ref, "ProductCode")
        product = (store.products.get(guid) if guid else None) or (
            store.product_by_code(code) if code else None
        )
        if product is None:
            raise ValidationFailed(f"Line {index}: product '{guid or code}' does not exist")
        quantity = _number(item, "OrderQuantity")
        if quantity is None:
            raise ValidationFailed(f"Line {index}: OrderQuantity is required")
        line_number = _number(item, "LineNumber")
        specs.append(
            LineSpec(
                product=product,
                quantity=quantity,
                unit_price=_number(item, "UnitPrice"),
                discount_rate=_number(item, "DiscountRate") or 0.0,
                line_number=int(line_number) if line_number is not None else None,
                guid=_text(item, "Guid"),
            )
        )
    return specs


def _date(body: Body, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        return parse_body_date(value)
    except ValueError as exc:
        raise ValidationFailed(f"{name}: {exc}") from exc


def order_arguments(store: BusinessStore, body: Body) -> dict[str, Any]:
    """Keyword arguments of ``orders.create_order`` from a POST body."""
    arguments: dict[str, Any] = {
        "customer": _customer(store, body),
        "lines": _lines(store, body),
        "warehouse": _warehouse(store, body),
        "number": _text(body, "OrderNumber"),
        "order_ms": _date(body, "OrderDate"),
        "required_ms": _date(body, "RequiredDate"),
        "currency": _nested_text(body, "Currency", "CurrencyCode"),
        "comments": _text(body, "Comments"),
    }
    status = _text(body, "OrderStatus")
    if status is not None:
        arguments["status"] = status
    return arguments
