"""Records as Unleashed writes them in JSON: PascalCase names, ``/Date(ms)/`` dates.

Only the fields in the facts (plus a few neighbours the real records carry,
such as ``CreatedOn`` or ``UnitOfMeasure``) are produced; the shapes are built
per request from the compact records, never stored.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from masterops_sandbox.unleashed.dates import wire_date
from masterops_sandbox.unleashed.records import (
    Customer,
    OrderLine,
    Product,
    SalesOrder,
    StockLine,
    Warehouse,
)

JSON = dict[str, Any]

_NAMESPACE = uuid.UUID("6f1d8c1e-5b7a-4e43-9a51-0c1d2e3f4a5b")


@lru_cache(maxsize=4096)
def _named_guid(kind: str, name: str) -> str:
    """A stable Guid for things stored by name only (product groups, units)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


def warehouse_json(w: Warehouse) -> JSON:
    return {
        "Guid": w.guid,
        "WarehouseCode": w.code,
        "WarehouseName": w.name,
        "City": w.city,
        "IsDefault": w.is_default,
        "Obsolete": w.obsolete,
        "LastModifiedOn": wire_date(w.modified_ms),
    }


def product_json(p: Product) -> JSON:
    return {
        "Guid": p.guid,
        "ProductCode": p.code,
        "ProductDescription": p.description,
        "Barcode": p.barcode,
        "DefaultSellPrice": p.sell_price,
        "DefaultPurchasePrice": p.purchase_price,
        "ProductGroup": {"GroupName": p.group_name, "Guid": _named_guid("group", p.group_name)},
        "UnitOfMeasure": {"Name": p.unit, "Guid": _named_guid("unit", p.unit)},
        "Weight": p.weight,
        "IsObsolete": p.is_obsolete,
        "IsSellable": not p.is_obsolete,
        "CreatedOn": wire_date(p.created_ms),
        "LastModifiedOn": wire_date(p.modified_ms),
    }


def stock_json(s: StockLine) -> JSON:
    """One product in one warehouse."""
    available = s.qty_on_hand - s.allocated_qty
    return {
        "Guid": s.guid,
        "ProductGuid": s.product.guid,
        "ProductCode": s.product.code,
        "ProductDescription": s.product.description,
        "ProductGroupName": s.product.group_name,
        "QtyOnHand": s.qty_on_hand,
        "AllocatedQty": s.allocated_qty,
        "AvailableQty": available,
        "OnPurchase": s.on_purchase,
        "AvgCost": s.avg_cost,
        "TotalCost": round(s.qty_on_hand * s.avg_cost, 2),
        "Warehouse": s.warehouse.name,
        "WarehouseId": s.warehouse.guid,
        "WarehouseCode": s.warehouse.code,
        "LastModifiedOn": wire_date(s.modified_ms),
    }


def stock_total_json(product: Product, lines: list[StockLine], warehouse: Warehouse | None) -> JSON:
    """A product's stock summed over ``lines``; ``Guid`` is the product's, as for totals
    there is no line of their own. Warehouse fields are set only for one warehouse."""
    on_hand = sum(line.qty_on_hand for line in lines)
    allocated = sum(line.allocated_qty for line in lines)
    total_cost = round(sum(line.qty_on_hand * line.avg_cost for line in lines), 2)
    return {
        "Guid": product.guid,
        "ProductGuid": product.guid,
        "ProductCode": product.code,
        "ProductDescription": product.description,
        "ProductGroupName": product.group_name,
        "QtyOnHand": on_hand,
        "AllocatedQty": allocated,
        "AvailableQty": on_hand - allocated,
        "OnPurchase": sum(line.on_purchase for line in lines),
        "AvgCost": round(total_cost / on_hand, 4) if on_hand else product.purchase_price,
        "TotalCost": total_cost,
        "Warehouse": warehouse.name if warehouse else None,
        "WarehouseId": warehouse.guid if warehouse else None,
        "WarehouseCode": warehouse.code if warehouse else None,
        "LastModifiedOn": wire_date(max((line.modified_ms for line in lines), default=None)),
    }


def customer_json(c: Customer) -> JSON:
    return {
        "Guid": c.guid,
        "CustomerCode": c.code,
        "CustomerName": c.name,
        "Email": c.email,
        "ContactFirstName": c.first_name,
        "ContactLastName": c.last_name,
        "PhoneNumber": c.phone,
        "Currency": {"CurrencyCode": c.currency},
        "CustomerType": c.customer_type,
        "Obsolete": c.obsolete,
        "CreatedOn": wire_date(c.created_ms),
        "LastModifiedOn": wire_date(c.modified_ms),
    }


def _line_json(line: OrderLine) -> JSON:
    return {
        "Guid": line.guid,
        "LineNumber": line.line_number,
        "Product": {
            "Guid": line.product.guid,
            "ProductCode": line.product.code,
            "ProductDescription": line.product.description,
        },
        "OrderQuantity": line.quantity,
        "UnitPrice": line.unit_price,
        "DiscountRate": line.discount_rate,
        "LineTotal": line.line_total,
        "LineTax": line.line_tax,
    }


def order_json(o: SalesOrder) -> JSON:
    return {
        "Guid": o.guid,
        "OrderNumber": o.number,
        "OrderDate": wire_date(o.order_ms),
        "RequiredDate": wire_date(o.required_ms),
        "CompletedDate": wire_date(o.completed_ms),
        "OrderStatus": o.status,
        "Customer": {
            "Guid": o.customer.guid,
            "CustomerCode": o.customer.code,
            "CustomerName": o.customer.name,
        },
        "Warehouse": {
            "Guid": o.warehouse.guid,
            "WarehouseCode": o.warehouse.code,
            "WarehouseName": o.warehouse.name,
        },
        "Currency": {"CurrencyCode": o.currency},
        "Comments": o.comments,
        "SalesOrderLines": [_line_json(line) for line in o.lines],
        "TaxRate": o.tax_rate,
        "SubTotal": o.sub_total,
        "TaxTotal": o.tax_total,
        "Total": o.total,
        "CreatedOn": wire_date(o.created_ms),
        "LastModifiedOn": wire_date(o.modified_ms),
    }


def to_json(record: object) -> JSON:
    """Any record in its JSON shape (stock lines as per-warehouse rows)."""
    if isinstance(record, Product):
        return product_json(record)
    if isinstance(record, StockLine):
        return stock_json(record)
    if isinstance(record, Customer):
        return customer_json(record)
    if isinstance(record, SalesOrder):
        return order_json(record)
    if isinstance(record, Warehouse):
        return warehouse_json(record)
    raise TypeError(f"not an Unleashed sandbox record: {type(record).__name__}")
