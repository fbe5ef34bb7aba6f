"""The orders push sends full batches: every deal, line item and deal -> line item link
batch carries 100 inputs, but for the last round's; every order still gets its deal,
line items and links and is stamped. Against the sandbox HubSpot, on every backend."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime

import httpx
from inventory_helpers import BUSINESS, FAST_RETRY, inventory_rig
from orders_helpers import deals, line_items, stored_orders
from sqlalchemy import Engine, insert

from masterops.db.tables import order_lines, orders
from masterops.integrations.hubspot import HubSpotConnector
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


async def test_every_batch_is_full_but_the_last_rounds(engine: Engine) -> None:
    line_count = _load(engine)
    async with inventory_rig() as rig:
        recorder = BatchSizes(SandboxTransport(app=rig.hubspot_harness))
        hubspot = HubSpotConnector(
            business_id=BUSINESS,
            runtime=rig.runtime,
            token=rig.account.hubspot_token,
            tier="limit_pack",  # 250 calls per 10 s: this push needs no waiting
            base_url="https://api.hubapi.com",
            transport=recorder,
            retry=FAST_RETRY,
        )
        rig.opened.append(hubspot)
        rig.hubspot_sandbox.set_tier(BUSINESS, "limit_pack")
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
