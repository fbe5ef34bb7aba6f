"""The orders push sends full batches: every deal, line item and deal -> line item link
batch carries 100 inputs, but for the last round's, and every deal -> contact and deal ->
company link batch but the very last, however many orders have a customer; every order
still gets its deal, line items and links and is stamped (one whose held link is refused
is not). Against the sandbox HubSpot, on every backend."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import httpx
from inventory_helpers import BUSINESS, FAST_RETRY, InventoryRig, inventory_rig
from orders_helpers import deals, line_items, linked, stored_orders
from sqlalchemy import Engine, bindparam, insert, select, update

from masterops.db.tables import customers, order_lines, orders
from masterops.integrations.hubspot import HubSpotConnector
from masterops.sync.common import collecting_refusals
from masterops.sync.orders import KIND
from masterops.sync.orders_hubspot import push_orders
from masterops.sync.runs import Tally
from masterops_sandbox.harness import SandboxTransport

ORDERS = 730  # three composed rounds and a short last one


class BatchSizes(httpx.AsyncBaseTransport):
    """The sandbox's transport, noting the inputs of every batch call by path."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sizes: dict[str, list[int]] = defaultdict(list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/batch/" in request.url.path:
            self.sizes[request.url.path].append(len(json.loads(request.content)["inputs"]))
        return await self.inner.handle_async_request(request)


def _load(engine: Engine) -> int:
    rng = random.Random(5)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    heads, lines = [], []
    for i in range(ORDERS):
        guid = f"10000000-0000-4000-8000-{i:012d}"
        heads.append(
            {
                "business_id": BUSINESS,
                "unleashed_guid": guid,
                "order_number": f"SO-{i:05d}",
                "order_date": now,
                "status": "Completed",
                "total": 10.0,
                "updated_at": now,
            }
        )
        for number in range(1, rng.choice([1, 1, 2, 3, 5]) + 1):
            lines.append(
                {
                    "business_id": BUSINESS,
                    "order_guid": guid,
                    "line_number": number,
                    "line_guid": f"20000000-0000-4000-{number:04d}-{i:012d}",
                    "product_code": f"SKU-{number}",
                    "quantity": 1.0,
                    "unit_price": 2.5,
                    "updated_at": now,
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(orders), heads)
        conn.execute(insert(order_lines), lines)
    return len(lines)


def _recorded_hubspot(rig: InventoryRig) -> tuple[BatchSizes, HubSpotConnector]:
    recorder = BatchSizes(SandboxTransport(app=rig.hubspot_harness))
    hubspot = HubSpotConnector(
        business_id=BUSINESS,
        runtime=rig.runtime,
        token=rig.account.hubspot_token,
        tier="limit_pack",  # 250 calls per 10 s: these pushes need no waiting
        base_url="https://api.hubapi.com",
        transport=recorder,
        retry=FAST_RETRY,
    )
    rig.opened.append(hubspot)
    rig.hubspot_sandbox.set_tier(BUSINESS, "limit_pack")
    return recorder, hubspot


def _stored_customers(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(customers))]


async def test_every_batch_is_full_but_the_last_rounds(engine: Engine) -> None:
    line_count = _load(engine)
    async with inventory_rig() as rig:
        recorder, hubspot = _recorded_hubspot(rig)
        tally = Tally(KIND, "hubspot")
        await push_orders(hubspot, engine, tally, business_id=BUSINESS, full=True)

        assert tally["deals_upserted"] == ORDERS and tally["hubspot_failed"] == 0
        assert tally["line_items_upserted"] == line_count
        assert tally["associations_created"] == line_count
        assert len(deals(rig)) == ORDERS and len(line_items(rig)) == line_count
        assert all(row["hubspot_synced_at"] is not None for row in stored_orders(engine).values())

        streams = {
            "/crm/v3/objects/deals/batch/upsert",
            "/crm/v3/objects/line_items/batch/upsert",
            "/crm/v4/associations/deals/line_items/batch/create",
        }
        assert streams <= set(recorder.sizes)
        for path in streams:
            sizes = recorder.sizes[path]
            # Only the last round (the orders left at the end) may send a part-full batch.
            assert sum(1 for n in sizes if n != 100) <= 1, (path, sizes)
            assert sum(sizes) == (ORDERS if "deals/batch" in path else line_count)


def _customers(rig: InventoryRig, engine: Engine, *, missing_contact: int = 0) -> list[str]:
    """40 customers, each a HubSpot contact and every other one a company too (the first
    ``missing_contact`` stand for contacts HubSpot does not have). Returns their Guids."""
    rows, guids = [], []
    for i in range(40):
        guid = f"30000000-0000-4000-8000-{i:012d}"
        contact = rig.hubspot_sandbox.create(
            BUSINESS, "contacts", {"email": f"customer{i}@example.com"}
        )
        company = None
        if i % 2:
            company = rig.hubspot_sandbox.create(BUSINESS, "companies", {"name": f"Co {i}"})
        rows.append(
            {
                "business_id": BUSINESS,
                "unleashed_guid": guid,
                "customer_code": f"C{i:03d}",
                "customer_name": f"Customer {i}",
                "obsolete": False,
                "hubspot_id": str(90_000_000 + i) if i < missing_contact else contact,
                "hubspot_company_id": company,
            }
        )
        guids.append(guid)
    with engine.begin() as conn:
        conn.execute(insert(customers), rows)
    return guids


def _orders_with_customers(
    rig: InventoryRig, engine: Engine, *, missing_contact: int = 0
) -> dict[str, str]:
    """The orders of ``_load``, two in three with a customer of ``_customers`` (the rest
    have none). Returns order -> customer."""
    _load(engine)
    guids = _customers(rig, engine, missing_contact=missing_contact)
    rng = random.Random(9)
    chosen = {
        guid: rng.choice(guids) for i, guid in enumerate(sorted(stored_orders(engine))) if i % 3
    }
    stmt = (
        update(orders)
        .where(orders.c.unleashed_guid == bindparam("b_order"))
        .values(customer_guid=bindparam("b_customer"))
    )
    with engine.begin() as conn:
        conn.execute(stmt, [{"b_order": o, "b_customer": c} for o, c in chosen.items()])
    return chosen


async def test_contact_and_company_link_batches_are_full_when_some_orders_have_no_customer(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        recorder, hubspot = _recorded_hubspot(rig)
        customer_of = _orders_with_customers(rig, engine)
        companies = {
            r["unleashed_guid"]: r["hubspot_company_id"] for r in _stored_customers(engine)
        }
        tally = Tally(KIND, "hubspot")
        await push_orders(hubspot, engine, tally, business_id=BUSINESS, full=True)

        assert tally["hubspot_failed"] == 0
        with_company = [o for o, c in customer_of.items() if companies[c] is not None]
        for path, expected in (
            ("/crm/v4/associations/deals/contacts/batch/create", len(customer_of)),
            ("/crm/v4/associations/deals/companies/batch/create", len(with_company)),
        ):
            sizes = recorder.sizes[path]
            # Held over from round to round: only the very last batch may be part-full.
            assert all(n == 100 for n in sizes[:-1]) and sum(sizes) == expected, (path, sizes)
        stored = stored_orders(engine)
        assert all(row["hubspot_synced_at"] is not None for row in stored.values())
        for order_guid, customer_guid in customer_of.items():
            deal_id = stored[order_guid]["hubspot_deal_id"]
            assert stored[order_guid]["hubspot_contact_link"] is not None
            assert linked(rig, deal_id, "contacts") == {stored[order_guid]["hubspot_contact_link"]}
            company = companies[customer_guid]
            assert linked(rig, deal_id, "companies") == ({company} if company else set())


async def test_an_order_whose_held_link_is_refused_is_left_for_the_next_run(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        _, hubspot = _recorded_hubspot(rig)
        customer_of = _orders_with_customers(rig, engine, missing_contact=1)
        lost = {o for o, c in customer_of.items() if c.endswith("000000000000")}
        tally = Tally(KIND, "hubspot")
        with collecting_refusals() as refusals:
            await push_orders(hubspot, engine, tally, business_id=BUSINESS, full=True)

        assert lost and tally["hubspot_failed"] == len(lost)
        stored = stored_orders(engine)
        unstamped = {guid for guid, row in stored.items() if row["hubspot_synced_at"] is None}
        assert unstamped == lost
        numbers = {stored[guid]["order_number"] for guid in lost}
        assert {r.key.split(":")[0] for r in refusals} == numbers
        assert all("deal -> contacts link" in r.key for r in refusals)
