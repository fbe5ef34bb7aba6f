"""The records the Unleashed sandbox keeps, stored compactly.

Every record is a slots dataclass holding plain values; instants are epoch
milliseconds (UTC) as ``int`` so that filters compare integers and the JSON
``/Date(ms)/`` form needs no conversion. References between records are direct
object references (a stock line holds its product), so a rename shows up
everywhere without a join. JSON shapes live in ``serialize.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ORDER_STATUSES: tuple[str, ...] = (
    "Open",
    "Parked",
    "Placed",
    "Backordered",
    "Completed",
    "Deleted",
)


@dataclass(slots=True)
class Warehouse:
    guid: str
    code: str
    name: str
    city: str
    is_default: bool
    obsolete: bool
    modified_ms: int


@dataclass(slots=True)
class Product:
    guid: str
    code: str
    description: str
    barcode: str | None
    sell_price: float
    purchase_price: float
    group_name: str
    unit: str
    weight: float
    is_obsolete: bool
    created_ms: int
    modified_ms: int


@dataclass(slots=True)
class StockLine:
    """Stock of one product in one warehouse: a row of ``/StockOnHand``."""

    guid: str
    product: Product
    warehouse: Warehouse
    qty_on_hand: float
    allocated_qty: float
    on_purchase: float
    avg_cost: float
    modified_ms: int


@dataclass(slots=True)
class Customer:
    guid: str
    code: str
    name: str
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    currency: str
    customer_type: str
    obsolete: bool
    created_ms: int
    modified_ms: int


@dataclass(slots=True)
class OrderLine:
    guid: str
    line_number: int
    product: Product
    quantity: float
    unit_price: float
    discount_rate: float
    line_total: float
    line_tax: float


@dataclass(slots=True)
class SalesOrder:
    guid: str
    number: str
    order_ms: int
    required_ms: int
    completed_ms: int | None
    status: str
    customer: Customer
    warehouse: Warehouse
    currency: str
    tax_rate: float
    lines: list[OrderLine] = field(default_factory=list)
    sub_total: float = 0.0
    tax_total: float = 0.0
    comments: str | None = None
    created_ms: int = 0
    modified_ms: int = 0

    @property
    def total(self) -> float:
        return round(self.sub_total + self.tax_total, 2)
