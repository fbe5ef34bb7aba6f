"""The order intake's test rig (imported by name: tests/ingest has no package): the
inventory sync's rig (tests/sync/inventory_helpers.py: the Unleashed and HubSpot
sandboxes in-process, connectors on one recorded runtime), plus the app with the order
receiver on the test database, a client speaking to it over an in-process ASGI
transport, and signing."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from inventory_helpers import BUSINESS, InventoryRig, inventory_rig
from sqlalchemy import Engine, insert, select

from masterops.db.tables import customers, order_lines, orders, webhook_inbox
from masterops.ingest.orders_events import IntakeReport, process_order_events
from masterops.integrations.unleashed.queries import DEFAULT_PAGE_SIZE
from masterops.operations.order_intake import intake_trigger
from masterops.sync.orders import sync_orders
from masterops.sync.orders_hubspot import LINE_GUID_PROPERTY, ORDER_GUID_PROPERTY
from masterops.sync.runs import SyncResult
from masterops.web import WebSettings, create_app
from masterops.web.orders_webhook import order_signature
from masterops_sandbox.unleashed.records import SalesOrder as SandboxOrder

OTHER = "elevate"
SECRETS = {BUSINESS: "teelixir-order-secret-1", OTHER: "elevate-order-secret-2"}
URL = f"/webhooks/orders/{BUSINESS}"


@dataclass(kw_only=True)
class IntakeRig(InventoryRig):
    """The inventory rig (sandboxes, connectors, recorded events) with the receiving app
    on the test database and a client speaking to it."""

    engine: Engine
    client: httpx.AsyncClient
    app: Any = None  # the Starlette app the client speaks to

    async def process(self) -> IntakeReport:
        """What the job does for the business: apply its pending order events."""
        return await process_order_events(self.engine, self.runtime.hub, BUSINESS, self.hubspot())

    async def poll(self, *, full: bool = False) -> SyncResult:
        """``ops sync orders`` of the business, on the same sandboxes."""
        return await sync_orders(
            self.unleashed(),
            self.engine,
            business_id=BUSINESS,
            hubspot=self.hubspot(),
            full=full,
            page_size=DEFAULT_PAGE_SIZE,
        )

    def order(self, index: int = 0) -> SandboxOrder:
        """An order of the seed that is not Deleted (so it becomes a deal)."""
        live = [o for o in self.unleashed_sandbox.orders(BUSINESS) if o.status != "Deleted"]
        return live[index]

    def open_order(self, index: int = 0) -> SandboxOrder:
        """An order of the seed still open (neither Completed nor Deleted)."""
        live = [
            o
            for o in self.unleashed_sandbox.orders(BUSINESS)
            if o.status not in ("Completed", "Deleted")
        ]
        return live[index]

    def order_json(self, order: SandboxOrder) -> dict[str, Any]:
        return self.unleashed_sandbox.to_json(order)

    def deal_of(self, guid: str) -> dict[str, Any] | None:
        return self.hubspot_sandbox.find(BUSINESS, "deals", ORDER_GUID_PROPERTY, guid.lower())

    def deals_of(self, guid: str) -> list[dict[str, Any]]:
        return [
            d
            for d in self.hubspot_sandbox.records(BUSINESS, "deals")
            if d["properties"].get(ORDER_GUID_PROPERTY) == guid.lower()
        ]

    def line_item_of(self, line_guid: str) -> dict[str, Any] | None:
        return self.hubspot_sandbox.find(
            BUSINESS, "line_items", LINE_GUID_PROPERTY, line_guid.lower()
        )

    def hubspot_writes(self) -> dict[str, int]:
        """HubSpot calls that change something, since the last call, by endpoint."""
        calls = {
            f"{method} {endpoint}": n
            for (method, endpoint), n in self.hubspot_harness.calls.items()
            if method in ("POST", "PATCH", "PUT", "DELETE") and "/search" not in endpoint
        }
        self.hubspot_harness.reset_calls()
        return calls


def signed(
    body: bytes | str | dict[str, Any] | list[Any],
    *,
    secret: str = SECRETS[BUSINESS],
    timestamp: int | None = None,
    event_id: str | None = None,
    content_type: str = "application/json",
) -> tuple[bytes, dict[str, str]]:
    """A body and the headers of a correctly signed delivery of it."""
    if isinstance(body, dict | list):
        raw = json.dumps(body).encode()
    else:
        raw = body.encode() if isinstance(body, str) else body
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": content_type,
        "X-MasterOps-Timestamp": stamp,
        "X-MasterOps-Signature": order_signature(secret, stamp, raw),
    }
    if event_id is not None:
        headers["X-MasterOps-Event-Id"] = event_id
    return raw, headers


async def post(rig: IntakeRig, body: Any, url: str = URL, **kwargs: Any) -> httpx.Response:
    raw, headers = signed(body, **kwargs)
    return await rig.client.post(url, content=raw, headers=headers)


def inbox_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        stmt = select(webhook_inbox).order_by(webhook_inbox.c.id)
        return [dict(r._mapping) for r in conn.execute(stmt)]


def stored_order(engine: Engine, guid: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(orders).where(
                orders.c.business_id == BUSINESS, orders.c.unleashed_guid == guid.lower()
            )
        ).first()
        return None if row is None else dict(row._mapping)


def stored_lines(engine: Engine, guid: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(order_lines)
            .where(order_lines.c.business_id == BUSINESS, order_lines.c.order_guid == guid.lower())
            .order_by(order_lines.c.line_number)
        )
        return [dict(r._mapping) for r in rows]


def make_contact(rig: IntakeRig, customer_guid: str, code: str) -> str:
    """What the customers sync would leave for one customer: a contact and its row."""
    contact_id = rig.hubspot_sandbox.create(
        BUSINESS, "contacts", {"email": f"{code.lower()}@example.com"}
    )
    with rig.engine.begin() as conn:
        conn.execute(
            insert(customers),
            {
                "business_id": BUSINESS,
                "unleashed_guid": customer_guid.lower(),
                "customer_code": code,
                "hubspot_id": contact_id,
            },
        )
    return contact_id


@asynccontextmanager
async def intake_rig(
    engine: Engine, *, inline: bool = True, **settings: Any
) -> AsyncIterator[IntakeRig]:
    """The rig; with ``inline`` the receiver applies a new order before answering (the
    in-process transport waits for the response's background task)."""
    async with inventory_rig(volume=20) as base:
        rig_box: list[IntakeRig] = []

        async def apply(business: str) -> IntakeReport:
            rig = rig_box[0]
            return await process_order_events(engine, rig.runtime.hub, business, rig.hubspot())

        web_settings = WebSettings(
            order_webhook_secrets=SECRETS,
            order_intake=intake_trigger(apply) if inline else None,
            **settings,
        )
        app = create_app(engine, web_settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://ops.example.com") as c:
            # The base rig's fields as they are (its list of opened connectors included,
            # which it closes on leaving).
            rig = IntakeRig(**vars(base), engine=engine, client=c, app=app)
            rig_box.append(rig)
            yield rig
