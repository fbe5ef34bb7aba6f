"""Inbox and mirror rows for the ingest tests (imported by name: tests/ingest has no package)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select

from masterops.db.tables import customers, order_lines, orders, products, webhook_inbox
from masterops.web.inbox import InboxEvent, store_events

BUSINESS = "teelixir"
SYNCED_AT = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
_event_ids = itertools.count(1000)


def event(
    subscription_type: str | None,
    object_id: Any,
    *,
    business: str | None = BUSINESS,
    occurred_at: datetime | None = None,
    **extra: Any,
) -> InboxEvent:
    """One HubSpot event as the receiver would store it (``extra``: propertyName, ...)."""
    event_id = str(next(_event_ids))
    occurred = occurred_at or SYNCED_AT + timedelta(hours=1)
    payload: dict[str, Any] = {
        "eventId": int(event_id),
        "subscriptionId": 1,
        "portalId": 1,
        "occurredAt": int(occurred.timestamp() * 1000),
        "attemptNumber": 0,
        "changeSource": "CRM_UI",
        **extra,
    }
    if subscription_type is not None:
        payload["subscriptionType"] = subscription_type
    if object_id is not None:
        payload["objectId"] = object_id
    return InboxEvent(
        source="hubspot",
        event_id=event_id,
        business_id=business,
        subscription_type=subscription_type,
        object_id=None if object_id is None else str(object_id),
        occurred_at=occurred,
        payload=payload,
    )


def deliver(engine: Engine, *events: InboxEvent) -> list[str]:
    store_events(engine, list(events))
    return [e.event_id for e in events]


def inbox(engine: Engine, event_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(webhook_inbox).where(webhook_inbox.c.event_id == event_id))
        return dict(row.one()._mapping)


def seed_mirror(engine: Engine, business: str = BUSINESS) -> None:
    """A product (HubSpot 501), a customer (601), an order (701) with one line (801)."""
    with engine.begin() as conn:
        conn.execute(
            insert(products),
            {
                "business_id": business,
                "unleashed_guid": "p-guid",
                "product_code": "MUSH-1",
                "hubspot_id": "501",
                "hubspot_synced_at": SYNCED_AT,
            },
        )
        conn.execute(
            insert(customers),
            {
                "business_id": business,
                "unleashed_guid": "c-guid",
                "customer_code": "CUST-1",
                "email": "a@example.com",
                "hubspot_id": "601",
                "hubspot_synced_at": SYNCED_AT,
            },
        )
        conn.execute(
            insert(orders),
            {
                "business_id": business,
                "unleashed_guid": "o-guid",
                "order_number": "SO-1",
                "status": "Completed",
                "hubspot_deal_id": "701",
                "hubspot_synced_at": SYNCED_AT,
            },
        )
        conn.execute(
            insert(order_lines),
            {
                "business_id": business,
                "order_guid": "o-guid",
                "line_number": 1,
                "quantity": 2,
                "hubspot_line_item_id": "801",
            },
        )


def mirror_row(engine: Engine, table: Any, **where: Any) -> dict[str, Any]:
    with engine.connect() as conn:
        stmt = select(table).where(*(table.c[k] == v for k, v in where.items()))
        return dict(conn.execute(stmt).one()._mapping)
