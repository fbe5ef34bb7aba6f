"""Unleashed records as JSON data and back, for the state folder.

Records refer to each other by object (a stock line holds its product); here those
references become Guids and are resolved again on load, against records loaded
first (warehouses and products before stock, customers before orders).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from masterops_sandbox.unleashed.records import (
    Customer,
    OrderLine,
    Product,
    SalesOrder,
    StockLine,
    Warehouse,
)

JSON = dict[str, Any]
R = TypeVar("R")
_REFERENCES = (Warehouse, Product, Customer)


def record_state(record: Any) -> JSON:
    """A record's fields; referenced records by Guid, order lines nested."""
    out: JSON = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if isinstance(value, _REFERENCES):
            value = value.guid
        elif f.name == "lines":
            value = [record_state(line) for line in value]
        out[f.name] = value
    return out


def plain_record(kind: Callable[..., R], state: JSON) -> R:
    """A record without references (warehouse, product, customer)."""
    return kind(**state)


def stock_line(
    state: JSON,
    warehouses: Callable[[str], Warehouse | None],
    products: Callable[[str], Product | None],
) -> StockLine:
    return StockLine(
        **{
            **state,
            "product": _resolve(products, state["product"], "product"),
            "warehouse": _resolve(warehouses, state["warehouse"], "warehouse"),
        }
    )


def sales_order(
    state: JSON,
    warehouses: Callable[[str], Warehouse | None],
    products: Callable[[str], Product | None],
    customers: Callable[[str], Customer | None],
) -> SalesOrder:
    lines = [
        OrderLine(**{**line, "product": _resolve(products, line["product"], "product")})
        for line in state["lines"]
    ]
    return SalesOrder(
        **{
            **state,
            "customer": _resolve(customers, state["customer"], "customer"),
            "warehouse": _resolve(warehouses, state["warehouse"], "warehouse"),
            "lines": lines,
        }
    )


def _resolve(lookup: Callable[[str], R | None], guid: str, what: str) -> R:
    found = lookup(guid)
    if found is None:
        raise ValueError(f"the Unleashed snapshot names a {what} {guid} it does not hold")
    return found
