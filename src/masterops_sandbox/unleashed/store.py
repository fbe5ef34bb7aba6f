"""One business's Unleashed data, with its indexes and its rules for change.

Records are indexed by Guid (and by code or number where the API looks them
up), so single-record requests never scan. Lists are served from the sorted
views each ``Table`` caches until it changes: an unfiltered page is a slice,
and only filtered lists scan.

Every change goes through a method here (sales orders: ``orders.py``), which
validates it (raising ``ValidationFailed``), stamps ``LastModifiedOn`` with the
injectable clock and drops the cached views. Both the HTTP routes and
``UnleashedSandbox`` use them.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from masterops_sandbox.unleashed import snapshot
from masterops_sandbox.unleashed.dates import to_ms
from masterops_sandbox.unleashed.errors import NotFound, ValidationFailed
from masterops_sandbox.unleashed.records import (
    Customer,
    Product,
    SalesOrder,
    StockLine,
    Warehouse,
)
from masterops_sandbox.unleashed.table import Table

PRODUCT_FIELDS = frozenset(
    {
        "code",
        "description",
        "barcode",
        "sell_price",
        "purchase_price",
        "group_name",
        "unit",
        "weight",
        "is_obsolete",
    }
)
CUSTOMER_FIELDS = frozenset(
    {
        "code",
        "name",
        "email",
        "first_name",
        "last_name",
        "phone",
        "currency",
        "customer_type",
        "obsolete",
    }
)
STOCK_FIELDS = frozenset({"qty_on_hand", "allocated_qty", "on_purchase", "avg_cost"})


class BusinessStore:
    """The Unleashed account of one business."""

    def __init__(self, slug: str, name: str, *, seed: int, now: Callable[[], datetime]) -> None:
        self.slug = slug
        self.name = name
        self._now = now
        self._rng = random.Random(f"{seed}:{slug}:runtime")
        self.warehouses: Table[Warehouse] = Table()
        self.products: Table[Product] = Table()
        self.stock: Table[StockLine] = Table()
        self.customers: Table[Customer] = Table()
        self.orders: Table[SalesOrder] = Table()
        self._warehouse_codes: dict[str, Warehouse] = {}
        self._product_codes: dict[str, Product] = {}
        self._customer_codes: dict[str, Customer] = {}
        self._order_numbers: dict[str, SalesOrder] = {}
        self._stock_by_product: dict[str, dict[str, StockLine]] = {}
        self._next_order = 1

    # ---- adding records as they are (the seed uses these) ----

    def add_warehouse(self, warehouse: Warehouse) -> None:
        self.warehouses.put(warehouse.guid, warehouse)
        self._warehouse_codes[warehouse.code.casefold()] = warehouse

    def add_product(self, product: Product) -> None:
        self.products.put(product.guid, product)
        self._product_codes[product.code.casefold()] = product

    def add_stock(self, line: StockLine) -> None:
        self.stock.put(line.guid, line)
        self._stock_by_product.setdefault(line.product.guid, {})[line.warehouse.guid] = line

    def add_customer(self, customer: Customer) -> None:
        self.customers.put(customer.guid, customer)
        self._customer_codes[customer.code.casefold()] = customer

    def add_order(self, order: SalesOrder) -> None:
        self.orders.put(order.guid, order)
        self._order_numbers[order.number.casefold()] = order
        number = order.number.rsplit("-", 1)[-1]
        if number.isdigit():
            self._next_order = max(self._next_order, int(number) + 1)

    # ---- lookups ----

    def now_ms(self) -> int:
        return to_ms(self._now())

    def new_guid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def warehouse_by_code(self, code: str) -> Warehouse | None:
        return self._warehouse_codes.get(code.casefold())

    def default_warehouse(self) -> Warehouse:
        for warehouse in self.warehouses:
            if warehouse.is_default:
                return warehouse
        return next(iter(self.warehouses))

    def product_by_code(self, code: str) -> Product | None:
        return self._product_codes.get(code.casefold())

    def customer_by_code(self, code: str) -> Customer | None:
        return self._customer_codes.get(code.casefold())

    def order_by_number(self, number: str) -> SalesOrder | None:
        return self._order_numbers.get(number.casefold())

    def stock_of(self, product: Product) -> list[StockLine]:
        """The product's stock lines, one per warehouse it has had transactions in."""
        return list(self._stock_by_product.get(product.guid, {}).values())

    def find_product(self, key: str) -> Product:
        """A product by Guid or by code; ``NotFound`` otherwise."""
        found = self.products.get(key) or self.product_by_code(key)
        if found is None:
            raise NotFound(f"No product with Guid or code '{key}' in {self.name}")
        return found

    def find_customer(self, key: str) -> Customer:
        found = self.customers.get(key) or self.customer_by_code(key)
        if found is None:
            raise NotFound(f"No customer with Guid or code '{key}' in {self.name}")
        return found

    def find_order(self, key: str) -> SalesOrder:
        found = self.orders.get(key) or self.order_by_number(key)
        if found is None:
            raise NotFound(f"No sales order with Guid or number '{key}' in {self.name}")
        return found

    def find_warehouse(self, key: str) -> Warehouse:
        found = self.warehouses.get(key) or self.warehouse_by_code(key)
        if found is None:
            raise NotFound(f"No warehouse with Guid or code '{key}' in {self.name}")
        return found

    # ---- products ----

    def save_product(self, guid: str, changes: dict[str, Any]) -> tuple[Product, bool]:
        """Create the product ``guid`` or update it; returns it and whether it is new."""
        check_fields(changes, PRODUCT_FIELDS, "product")
        existing = self.products.get(guid)
        if existing is not None:
            return self.update_product(existing, **changes), False
        code = changes.get("code")
        description = changes.get("description")
        if not code or not description:
            raise ValidationFailed("ProductCode and ProductDescription are required")
        self._check_product_code(code, None)
        now = self.now_ms()
        product = Product(
            guid=guid.lower(),
            code=code,
            description=description,
            barcode=changes.get("barcode"),
            sell_price=float(changes.get("sell_price") or 0.0),
            purchase_price=float(changes.get("purchase_price") or 0.0),
            group_name=changes.get("group_name") or "General",
            unit=changes.get("unit") or "EA",
            weight=float(changes.get("weight") or 0.0),
            is_obsolete=bool(changes.get("is_obsolete", False)),
            created_ms=now,
            modified_ms=now,
        )
        self.add_product(product)
        # A stock line names its product: views sorted by product code are stale now.
        self.stock.changed()
        return product, True

    def update_product(self, product: Product, **changes: Any) -> Product:
        """Change some fields of ``product`` and move its ``LastModifiedOn`` to now."""
        check_fields(changes, PRODUCT_FIELDS, "product")
        code = changes.get("code")
        if code is not None and code.casefold() != product.code.casefold():
            self._check_product_code(code, product)
            del self._product_codes[product.code.casefold()]
            self._product_codes[code.casefold()] = product
        for name, value in changes.items():
            setattr(product, name, value)
        product.modified_ms = self.now_ms()
        self.products.changed()
        self.stock.changed()
        return product

    def _check_product_code(self, code: str, owner: Product | None) -> None:
        holder = self.product_by_code(code)
        if holder is not None and holder is not owner:
            raise ValidationFailed(f"ProductCode '{code}' is already used by another product")

    # ---- stock ----

    def set_stock(self, product: Product, warehouse: Warehouse, **changes: float) -> StockLine:
        """Set stock figures of ``product`` in ``warehouse`` (a transaction: the line
        appears if it did not exist) and move its ``LastModifiedOn`` to now."""
        check_fields(changes, STOCK_FIELDS, "stock line")
        line = self._stock_by_product.get(product.guid, {}).get(warehouse.guid)
        if line is None:
            line = StockLine(
                guid=self.new_guid(),
                product=product,
                warehouse=warehouse,
                qty_on_hand=0.0,
                allocated_qty=0.0,
                on_purchase=0.0,
                avg_cost=product.purchase_price,
                modified_ms=0,
            )
            self.add_stock(line)
        for name, value in changes.items():
            setattr(line, name, float(value))
        line.modified_ms = self.now_ms()
        self.stock.changed()
        return line

    # ---- customers ----

    def save_customer(self, guid: str, changes: dict[str, Any]) -> tuple[Customer, bool]:
        """Create the customer ``guid`` or update it; returns it and whether it is new."""
        check_fields(changes, CUSTOMER_FIELDS, "customer")
        existing = self.customers.get(guid)
        if existing is not None:
            return self.update_customer(existing, **changes), False
        code = changes.get("code")
        name = changes.get("name")
        if not code or not name:
            raise ValidationFailed("CustomerCode and CustomerName are required")
        self._check_customer_code(code, None)
        now = self.now_ms()
        customer = Customer(
            guid=guid.lower(),
            code=code,
            name=name,
            email=changes.get("email"),
            first_name=changes.get("first_name"),
            last_name=changes.get("last_name"),
            phone=changes.get("phone"),
            currency=changes.get("currency") or "AUD",
            customer_type=changes.get("customer_type") or "Retail",
            obsolete=bool(changes.get("obsolete", False)),
            created_ms=now,
            modified_ms=now,
        )
        self.add_customer(customer)
        return customer, True

    def update_customer(self, customer: Customer, **changes: Any) -> Customer:
        check_fields(changes, CUSTOMER_FIELDS, "customer")
        code = changes.get("code")
        if code is not None and code.casefold() != customer.code.casefold():
            self._check_customer_code(code, customer)
            del self._customer_codes[customer.code.casefold()]
            self._customer_codes[code.casefold()] = customer
        for name, value in changes.items():
            setattr(customer, name, value)
        customer.modified_ms = self.now_ms()
        self.customers.changed()
        self.orders.changed()
        return customer

    def _check_customer_code(self, code: str, owner: Customer | None) -> None:
        holder = self.customer_by_code(code)
        if holder is not None and holder is not owner:
            raise ValidationFailed(f"CustomerCode '{code}' is already used by another customer")

    # ---- sales orders ----

    def next_order_number(self) -> str:
        while True:
            number = f"SO-{self._next_order:08d}"
            self._next_order += 1
            if number.casefold() not in self._order_numbers:
                return number

    # ---- figures ----

    def counts(self) -> dict[str, int]:
        return {
            "products": len(self.products),
            "stock_on_hand": len(self.stock),
            "customers": len(self.customers),
            "sales_orders": len(self.orders),
            "warehouses": len(self.warehouses),
        }

    # ---- snapshot (the state folder) ----

    def to_state(self) -> dict[str, Any]:
        """Every record, the order counter and the Guid generator as JSON data."""
        return {
            "guid_rng": list(self._rng.getstate()),
            "next_order": self._next_order,
            "warehouses": snapshot.table_state(self.warehouses, Warehouse),
            "products": snapshot.table_state(self.products, Product),
            "stock": snapshot.table_state(self.stock, StockLine),
            "customers": snapshot.table_state(self.customers, Customer),
            "orders": snapshot.table_state(self.orders, SalesOrder),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace every record with those of a ``to_state`` snapshot."""
        version, internal, gauss = state["guid_rng"]
        self._rng.setstate((version, tuple(internal), gauss))
        self.warehouses, self.products, self.stock = Table(), Table(), Table()
        self.customers, self.orders = Table(), Table()
        self._warehouse_codes, self._product_codes, self._customer_codes = {}, {}, {}
        self._order_numbers, self._stock_by_product = {}, {}
        for row in snapshot.table_rows(state["warehouses"]):
            self.add_warehouse(snapshot.plain_record(Warehouse, row))
        for row in snapshot.table_rows(state["products"]):
            self.add_product(snapshot.plain_record(Product, row))
        for row in snapshot.table_rows(state["stock"]):
            self.add_stock(snapshot.stock_line(row, self.warehouses.get, self.products.get))
        for row in snapshot.table_rows(state["customers"]):
            self.add_customer(snapshot.plain_record(Customer, row))
        for row in snapshot.table_rows(state["orders"]):
            self.add_order(
                snapshot.sales_order(
                    row, self.warehouses.get, self.products.get, self.customers.get
                )
            )
        self._next_order = int(state["next_order"])


def check_fields(changes: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"Unknown {what} fields: {', '.join(sorted(unknown))}")
