"""Unleashed records as JSON data and back, for the state folder.

Records refer to each other by object (a stock line holds its product); here those
references become Guids and are resolved again on load, against records loaded
first (warehouses and products before stock, customers before orders).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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
_LINE_FIELDS = [f.name for f in fields(OrderLine)]


def table_state(records: Iterable[Any], kind: type) -> JSON:
    """Records of one kind as ``{"fields": [...], "rows": [[...], ...]}``: field names
    once, not once per record, which halves the file and the time to write it."""
    names = [f.name for f in fields(kind)]
    return {"fields": names, "rows": [_row(record, names) for record in records]}


def table_rows(state: JSON) -> Iterator[JSON]:
    """The records of a ``table_state`` as field -> value mappings."""
    names = state["fields"]
    for row in state["rows"]:
        yield dict(zip(names, row, strict=True))


def _row(record: Any, names: list[str]) -> list[Any]:
    values: list[Any] = []
    for name in names:
        value = getattr(record, name)
        if isinstance(value, _REFERENCES):
            value = value.guid
        elif name == "lines":
            value = [_row(line, _LINE_FIELDS) for line in value]
        values.append(value)
    return values


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
    lines = []
    for values in state["lines"]:
        line = dict(zip(_LINE_FIELDS, values, strict=True))
        line["product"] = _resolve(products, line["product"], "product")
        lines.append(OrderLine(**line))
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
