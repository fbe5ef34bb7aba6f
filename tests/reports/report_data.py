"""One known local day of Teelixir (Sunday 5 April 2026 in Melbourne: the day daylight
saving ends, 25 hours long) and its neighbours, with the figures its report must show."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from masterops.db.tables import (
    api_metrics,
    api_quota_usage,
    customers,
    integration_logs,
    order_lines,
    orders,
    products,
    stock_levels,
    sync_runs,
    workflow_execution_logs,
)

DAY = "2026-04-05"
B = "teelixir"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Local midnight 5 April is 13:00 UTC on the 4th (AEDT, +11); local midnight 6 April is
# 14:00 UTC on the 5th (AEST, +10).
ORDERS = [
    # (business, guid, status, customer, UTC time, total, [(product, qty, line total)])
    (B, "o1", "Completed", "c1", "2026-04-04T13:30", 100.0, [("p1", 2, 60.0), ("p2", 1, 40.0)]),
    (B, "o2", "Placed", "c2", "2026-04-05T13:30", 50.0, [("p2", 1, 50.0)]),  # 23:30 local
    (B, "o3", "Deleted", "c3", "2026-04-05T10:00", 999.0, [("p1", 10, 999.0)]),
    (B, "o4", "Completed", "c4", "2026-04-04T12:30", 70.0, [("p3", 1, 70.0)]),  # the 4th local
    (B, "o5", "Completed", "c4", "2026-04-05T14:30", 30.0, [("p3", 1, 30.0)]),  # the 6th local
    (B, "o6", "Completed", "c2", "2026-04-01T02:00", 10.0, [("p1", 1, 10.0)]),
    ("elevate", "e1", "Completed", "x1", "2026-04-05T01:00", 500.0, [("p1", 5, 500.0)]),
]


def seed_report_day(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(products),
            [
                {"business_id": B, "unleashed_guid": guid, "product_code": code,
                 "description": desc, "is_obsolete": obsolete}
                for guid, code, desc, obsolete in (
                    ("p1", "REI-1", "Reishi 100g", False),
                    ("p2", "CHA-1", "Chaga 100g", False),
                    ("p3", "LIO-1", "Lion's Mane 100g", False),
                    ("p4", "OLD-1", "Discontinued", True),
                )
            ],
        )  # fmt: skip
        conn.execute(
            insert(stock_levels),
            [
                {"business_id": B, "product_guid": guid, "warehouse_code": wh,
                 "product_code": code, "qty_on_hand": qty, "allocated_qty": 0,
                 "available_qty": qty}
                for guid, code, wh, qty in (
                    ("p1", "REI-1", "MEL", 3.0),
                    ("p1", "REI-1", "SYD", 4.0),
                    ("p2", "CHA-1", "MEL", 50.0),
                    ("p3", "LIO-1", "MEL", 0.0),
                    ("p4", "OLD-1", "MEL", 0.0),
                )
            ],
        )  # fmt: skip
        conn.execute(
            insert(customers),
            [
                {"business_id": b, "unleashed_guid": c, "customer_code": c.upper()}
                for b, c in ((B, "c1"), (B, "c2"), (B, "c3"), (B, "c4"), ("elevate", "x1"))
            ],
        )
        for business, guid, status, customer, when, total, lines in ORDERS:
            conn.execute(
                insert(orders).values(
                    business_id=business, unleashed_guid=guid, order_number=guid.upper(),
                    order_date=at(when), status=status, customer_guid=customer,
                    currency="AUD", total=total,
                )
            )  # fmt: skip
            conn.execute(
                insert(order_lines),
                [
                    {"business_id": business, "order_guid": guid, "line_number": n,
                     "product_guid": product, "product_code": f"CODE-{product}",
                     "quantity": qty, "line_total": line_total}
                    for n, (product, qty, line_total) in enumerate(lines, 1)
                ],
            )  # fmt: skip
        conn.execute(
            insert(sync_runs),
            [
                {"business_id": B, "entity": entity, "status": status, "failed": failed,
                 "error_message": error, "started_at": at(when)}
                for entity, status, failed, error, when in (
                    ("inventory", "succeeded", 0, None, "2026-04-04T20:00"),
                    ("inventory", "failed", 3, "boom", "2026-04-05T02:00"),
                    ("orders", "succeeded", 2, None, "2026-04-05T03:00"),
                    ("orders", "failed", 9, "outside", "2026-04-03T03:00"),
                )
            ],
        )  # fmt: skip
        conn.execute(
            insert(workflow_execution_logs),
            [
                {"workflow_id": wid, "workflow_name": name, "execution_id": str(i),
                 "status": status, "started_at": at(when), "business_id": business,
                 "error_message": error}
                for i, (wid, name, status, error, when, business) in enumerate((
                    ("w1", "Order sync", "success", None, "2026-04-04T14:00", B),
                    ("w1", "Order sync", "error", "node X failed", "2026-04-05T05:00", B),
                    ("w1", "Order sync", "success", None, "2026-04-05T06:00", B),
                    ("w2", "Stock", "success", None, "2026-04-05T07:00", B),
                    ("w3", "Elevate only", "error", "nope", "2026-04-05T07:00", "elevate"),
                ))
            ],
        )  # fmt: skip
        conn.execute(
            insert(integration_logs),
            [
                {"source": "connector", "service": service, "level": level, "message": message,
                 "business_id": B, "created_at": at(when)}
                for service, level, message, when in (
                    ("hubspot", "error", "HTTP 500 first", "2026-04-05T01:00"),
                    ("hubspot", "error", "HTTP 502 last", "2026-04-05T02:00"),
                    ("unleashed", "error", "timeout", "2026-04-05T03:00"),
                    ("unleashed", "warn", "slow", "2026-04-05T03:00"),
                    ("n8n", "error", "outside", "2026-04-04T01:00"),
                )
            ],
        )  # fmt: skip
        conn.execute(
            insert(api_metrics),
            [
                {"service": service, "endpoint": "/x", "method": "GET", "success": True,
                 "duration_ms": 5.0, "business_id": B, "created_at": at(when)}
                for service, when in (
                    ("hubspot", "2026-04-04T13:10"),
                    ("hubspot", "2026-04-05T12:00"),
                    ("hubspot", "2026-04-05T13:59"),
                    ("hubspot", "2026-04-04T12:59"),  # the day before, local
                    ("unleashed", "2026-04-02T00:00"),
                    ("unleashed", "2026-04-05T00:00"),
                    ("unleashed", "2026-03-31T00:00"),  # March
                )
            ],
        )  # fmt: skip
        conn.execute(
            insert(api_quota_usage).values(
                service="unleashed", account="acct-1", period="2026-04", calls=1234
            )
        )
