"""Sales orders: creating, completing and moving them between statuses.

Totals are computed here, never taken from the client: a line is
``quantity x unit price x (1 - discount)`` rounded to cents, GST is 10 % on
AUD orders and nothing on other currencies (exports). Creating an order
touches no stock; completing it takes each line's quantity out of the order's
warehouse (which may go below zero, as Unleashed allows when configured so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from masterops_sandbox.unleashed.errors import ValidationFailed
from masterops_sandbox.unleashed.records import (
    ORDER_STATUSES,
    Customer,
    OrderLine,
    Product,
    SalesOrder,
    Warehouse,
)
from masterops_sandbox.unleashed.store import BusinessStore

GST_RATE = 0.1
CREATABLE_STATUSES = ("Open", "Parked", "Placed", "Backordered")


@dataclass(frozen=True, slots=True)
class LineSpec:
    """One line of a sales order to create."""

    product: Product
    quantity: float
    unit_price: float | None = None  # None: the product's sell price
    discount_rate: float = 0.0
    line_number: int | None = None
    guid: str | None = None


def tax_rate_for(currency: str) -> float:
    return GST_RATE if currency == "AUD" else 0.0


def create_order(
    store: BusinessStore,
    guid: str,
    *,
    customer: Customer,
    lines: Sequence[LineSpec],
    warehouse: Warehouse | None = None,
    status: str = "Parked",
    number: str | None = None,
    order_ms: int | None = None,
    required_ms: int | None = None,
    currency: str | None = None,
    comments: str | None = None,
) -> SalesOrder:
    """A new sales order in ``store``; ``ValidationFailed`` says what is wrong."""
    if store.orders.get(guid) is not None:
        raise ValidationFailed(f"A sales order with Guid '{guid}' already exists")
    if status not in CREATABLE_STATUSES:
        raise ValidationFailed(
            f"OrderStatus '{status}' cannot be set on a new order; use one of "
            f"{', '.join(CREATABLE_STATUSES)}, then /Complete"
        )
    if not lines:
        raise ValidationFailed("A sales order needs at least one line")
    if number is not None and store.order_by_number(number) is not None:
        raise ValidationFailed(f"OrderNumber '{number}' is already used")
    if customer.obsolete:
        raise ValidationFailed(f"Customer '{customer.code}' is obsolete")
    currency = currency or customer.currency
    tax_rate = tax_rate_for(currency)
    built = [_build_line(store, spec, index, tax_rate) for index, spec in enumerate(lines)]
    now = store.now_ms()
    order_ms = now if order_ms is None else order_ms
    order = SalesOrder(
        guid=guid.lower(),
        number=number or store.next_order_number(),
        order_ms=order_ms,
        required_ms=order_ms if required_ms is None else required_ms,
        completed_ms=None,
        status=status,
        customer=customer,
        warehouse=warehouse or store.default_warehouse(),
        currency=currency,
        tax_rate=tax_rate,
        lines=built,
        sub_total=round(sum(line.line_total for line in built), 2),
        tax_total=round(sum(line.line_tax for line in built), 2),
        comments=comments,
        created_ms=now,
        modified_ms=now,
    )
    store.add_order(order)
    return order


def _build_line(store: BusinessStore, spec: LineSpec, index: int, tax_rate: float) -> OrderLine:
    where = f"Line {index + 1}"
    if spec.quantity <= 0:
        raise ValidationFailed(f"{where}: OrderQuantity must be greater than 0")
    if not 0.0 <= spec.discount_rate <= 1.0:
        raise ValidationFailed(f"{where}: DiscountRate must be between 0 and 1")
    if spec.product.is_obsolete:
        raise ValidationFailed(f"{where}: product '{spec.product.code}' is obsolete")
    price = spec.product.sell_price if spec.unit_price is None else spec.unit_price
    total = round(spec.quantity * price * (1.0 - spec.discount_rate), 2)
    return OrderLine(
        guid=(spec.guid or store.new_guid()).lower(),
        line_number=spec.line_number or index + 1,
        product=spec.product,
        quantity=spec.quantity,
        unit_price=price,
        discount_rate=spec.discount_rate,
        line_total=total,
        line_tax=round(total * tax_rate, 2),
    )


def complete_order(store: BusinessStore, order: SalesOrder) -> SalesOrder:
    """Complete the order: stock leaves its warehouse, the status becomes Completed."""
    if order.status == "Deleted":
        raise ValidationFailed(f"Sales order {order.number} is deleted and cannot be completed")
    if order.status == "Completed":
        raise ValidationFailed(f"Sales order {order.number} is already completed")
    for line in order.lines:
        current = next(
            (s for s in store.stock_of(line.product) if s.warehouse is order.warehouse), None
        )
        on_hand = current.qty_on_hand if current else 0.0
        allocated = current.allocated_qty if current else 0.0
        store.set_stock(
            line.product,
            order.warehouse,
            qty_on_hand=on_hand - line.quantity,
            allocated_qty=max(0.0, allocated - line.quantity),
        )
    now = store.now_ms()
    order.status = "Completed"
    order.completed_ms = now
    order.modified_ms = now
    store.orders.changed()
    return order


def set_order_status(store: BusinessStore, order: SalesOrder, status: str) -> SalesOrder:
    """Move an order to any status (the Python API's back door, e.g. to delete one)."""
    if status not in ORDER_STATUSES:
        raise ValidationFailed(f"Unknown order status '{status}'")
    order.status = status
    order.modified_ms = store.now_ms()
    if status == "Completed" and order.completed_ms is None:
        order.completed_ms = order.modified_ms
    store.orders.changed()
    return order


def drop_line(store: BusinessStore, order: SalesOrder, line_number: int) -> SalesOrder:
    """Remove one line from an order (as editing it in Unleashed would); the totals follow."""
    kept = [line for line in order.lines if line.line_number != line_number]
    if len(kept) == len(order.lines):
        raise ValidationFailed(f"Sales order {order.number} has no line {line_number}")
    if not kept:
        raise ValidationFailed("A sales order needs at least one line")
    order.lines = kept
    order.sub_total = round(sum(line.line_total for line in kept), 2)
    order.tax_total = round(sum(line.line_tax for line in kept), 2)
    order.modified_ms = store.now_ms()
    store.orders.changed()
    return order
