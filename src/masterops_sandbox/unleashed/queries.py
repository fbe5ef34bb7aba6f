"""Query parameters, list filters and paging of the Unleashed list endpoints.

Parameter names are matched case-insensitively (``pageSize`` = ``pagesize``).
Paging is in the path (``/Products/2``); ``pageSize`` defaults to 200 and may
be at most 1000: a larger (or non-positive) value is answered with 400 rather
than silently clamped, so a client that asks for more learns it at once.

``modifiedSince`` is DAY-GRANULAR on every endpoint: a record matches when the
UTC day of its ``LastModifiedOn`` is on or after the UTC day of the filter,
whatever time the filter carries. Unleashed behaves so on some endpoints, and
the sandbox takes the stricter reading everywhere, so incremental windows
overlap and clients must de-duplicate what they fetch twice.

Other text filters: ``productCode`` and ``customerCode`` (customers) match the
start of the code; ``customerName`` matches anywhere in the name; ``contactEmail``,
``warehouseCode``, ``orderNumber`` and ``customerCode`` (sales orders) match
whole values; all ignore case.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from masterops_sandbox.unleashed.dates import day_of, has_time, parse_filter_date, to_ms
from masterops_sandbox.unleashed.errors import ValidationFailed
from masterops_sandbox.unleashed.records import (
    ORDER_STATUSES,
    Customer,
    Product,
    SalesOrder,
    StockLine,
    Warehouse,
)
from masterops_sandbox.unleashed.store import BusinessStore

R = TypeVar("R")

DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000

_STATUS_BY_NAME = {status.casefold(): status for status in ORDER_STATUSES}


class Query:
    """The parameters of one request, by case-insensitive name."""

    def __init__(self, raw: bytes) -> None:
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
        self._values = {name.casefold(): value for name, value in pairs}

    def text(self, name: str) -> str | None:
        value = self._values.get(name.casefold())
        return value if value else None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.casefold() in ("true", "1"):
            return True
        if value.casefold() in ("false", "0"):
            return False
        raise ValidationFailed(f"{name} must be true or false, got '{value}'")

    def date(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_filter_date(value)
        except ValueError as exc:
            raise ValidationFailed(f"{name}: {exc}") from exc

    def page_size(self) -> int:
        value = self.text("pageSize")
        if value is None:
            return DEFAULT_PAGE_SIZE
        try:
            size = int(value)
        except ValueError:
            raise ValidationFailed(f"pageSize must be a whole number, got '{value}'") from None
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise ValidationFailed(f"pageSize must be between 1 and {MAX_PAGE_SIZE}, got {size}")
        return size

    def modified_since_day(self) -> int | None:
        since = self.date("modifiedSince")
        return None if since is None else day_of(to_ms(since))


def paginate(
    items: Sequence[R], page: int, page_size: int, render: Callable[[R], dict[str, Any]]
) -> dict[str, Any]:
    """The Unleashed list envelope; a page past the end has no items."""
    if page < 1:
        raise ValidationFailed(f"Page numbers start at 1, got {page}")
    start = (page - 1) * page_size
    return {
        "Pagination": {
            "NumberOfItems": len(items),
            "PageSize": page_size,
            "PageNumber": page,
            "NumberOfPages": math.ceil(len(items) / page_size),
        },
        "Items": [render(item) for item in items[start : start + page_size]],
    }


def _since(records: Iterable[R], day: int | None, stamp: Callable[[R], int]) -> Iterable[R]:
    if day is None:
        return records
    return (r for r in records if day_of(stamp(r)) >= day)


# ---- products ----

_PRODUCT_ORDERS: dict[str, Callable[[Product], Any]] = {
    "productcode": lambda p: p.code.casefold(),
    "productdescription": lambda p: (p.description.casefold(), p.code.casefold()),
    "lastmodifiedon": lambda p: (p.modified_ms, p.code.casefold()),
    "createdon": lambda p: (p.created_ms, p.code.casefold()),
    "defaultsellprice": lambda p: (p.sell_price, p.code.casefold()),
}


def _order_by(
    query: Query, choices: dict[str, Callable[[R], Any]], default: str
) -> tuple[str, bool]:
    value = query.text("orderBy")
    if value is None:
        return default, False
    parts = value.split()
    name = parts[0].casefold()
    descending = len(parts) > 1 and parts[1].casefold() == "desc"
    if name not in choices or len(parts) > 2:
        allowed = ", ".join(sorted(choices))
        raise ValidationFailed(f"orderBy '{value}' is not supported; use one of {allowed}")
    return name, descending


def products(store: BusinessStore, query: Query) -> Sequence[Product]:
    include_obsolete = query.flag("includeObsolete")
    order, descending = _order_by(query, _PRODUCT_ORDERS, "productcode")

    def build(records: Iterator[Product]) -> list[Product]:
        kept = records if include_obsolete else (p for p in records if not p.is_obsolete)
        return sorted(kept, key=_PRODUCT_ORDERS[order], reverse=descending)

    base = store.products.view(("products", include_obsolete, order, descending), build)
    code = query.text("productCode")
    since = query.modified_since_day()
    if code is None and since is None:
        return base
    result: Iterable[Product] = base
    if code is not None:
        prefix = code.casefold()
        result = (p for p in result if p.code.casefold().startswith(prefix))
    return list(_since(result, since, lambda p: p.modified_ms))


# ---- stock on hand ----


def stock(store: BusinessStore, query: Query) -> Sequence[StockLine]:
    def build(records: Iterator[StockLine]) -> list[StockLine]:
        return sorted(records, key=lambda s: (s.product.code.casefold(), s.warehouse.code))

    base = store.stock.view(("stock",), build)
    warehouse = query.text("warehouseCode")
    product_ids = query.text("productId")
    since = query.modified_since_day()
    if warehouse is None and product_ids is None and since is None:
        return base
    result: Iterable[StockLine] = base
    if warehouse is not None:
        code = warehouse.casefold()
        result = (s for s in result if s.warehouse.code.casefold() == code)
    if product_ids is not None:
        wanted = {guid.strip().lower() for guid in product_ids.split(",")}
        result = (s for s in result if s.product.guid in wanted)
    return list(_since(result, since, lambda s: s.modified_ms))


# ---- customers ----


def customers(store: BusinessStore, query: Query) -> Sequence[Customer]:
    include_obsolete = query.flag("includeObsolete")

    def build(records: Iterator[Customer]) -> list[Customer]:
        kept = records if include_obsolete else (c for c in records if not c.obsolete)
        return sorted(kept, key=lambda c: c.code.casefold())

    base = store.customers.view(("customers", include_obsolete), build)
    code = query.text("customerCode")
    name = query.text("customerName")
    email = query.text("contactEmail")
    since = query.modified_since_day()
    if code is None and name is None and email is None and since is None:
        return base
    result: Iterable[Customer] = base
    if code is not None:
        prefix = code.casefold()
        result = (c for c in result if c.code.casefold().startswith(prefix))
    if name is not None:
        part = name.casefold()
        result = (c for c in result if part in c.name.casefold())
    if email is not None:
        address = email.casefold()
        result = (c for c in result if (c.email or "").casefold() == address)
    return list(_since(result, since, lambda c: c.modified_ms))


# ---- sales orders ----


def _statuses(query: Query) -> frozenset[str]:
    value = query.text("orderStatus")
    if value is None:
        return frozenset(s for s in ORDER_STATUSES if s != "Deleted")
    chosen = set()
    for name in value.split(","):
        status = _STATUS_BY_NAME.get(name.strip().casefold())
        if status is None:
            allowed = ", ".join(ORDER_STATUSES)
            raise ValidationFailed(f"orderStatus '{name.strip()}' is not one of {allowed}")
        chosen.add(status)
    return frozenset(chosen)


def sales_orders(store: BusinessStore, query: Query) -> Sequence[SalesOrder]:
    statuses = _statuses(query)

    def build(records: Iterator[SalesOrder]) -> list[SalesOrder]:
        return sorted((o for o in records if o.status in statuses), key=lambda o: o.number)

    base = store.orders.view(("orders", statuses), build)
    customer = query.text("customerCode")
    number = query.text("orderNumber")
    start, end = query.date("startDate"), query.date("endDate")
    since = query.modified_since_day()
    if customer is None and number is None and start is None and end is None and since is None:
        return base
    result: Iterable[SalesOrder] = base
    if customer is not None:
        code = customer.casefold()
        result = (o for o in result if o.customer.code.casefold() == code)
    if number is not None:
        wanted = number.casefold()
        result = (o for o in result if o.number.casefold() == wanted)
    if start is not None:
        start_ms = to_ms(start)
        result = (o for o in result if o.order_ms >= start_ms)
    if end is not None:
        result = _until(result, end, query.text("endDate") or "")
    return list(_since(result, since, lambda o: o.modified_ms))


def _until(orders: Iterable[SalesOrder], end: datetime, raw: str) -> Iterable[SalesOrder]:
    """Orders dated up to ``end``: a bare date includes that whole day."""
    if has_time(raw):
        end_ms = to_ms(end)
        return (o for o in orders if o.order_ms <= end_ms)
    end_day = day_of(to_ms(end))
    return (o for o in orders if day_of(o.order_ms) <= end_day)


# ---- warehouses ----


def warehouses(store: BusinessStore, query: Query) -> Sequence[Warehouse]:
    def build(records: Iterator[Warehouse]) -> list[Warehouse]:
        return sorted(records, key=lambda w: w.code.casefold())

    result: Sequence[Warehouse] = store.warehouses.view(("warehouses",), build)
    code = query.text("warehouseCode")
    if code is None:
        return result
    return [w for w in result if w.code.casefold() == code.casefold()]
