"""Rounds of a push that overlap (``sync.pipeline``): at most ``depth`` at once, every
result reported, the first failure cancels the rest and is raised. And the inventory push
uses it: the next round's batch calls are already in flight while a round's last calls
are answered, against the sandbox HubSpot, on every backend."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime

import httpx
import pytest
from inventory_helpers import BUSINESS, FAST_RETRY, inventory_rig, stored_products
from sqlalchemy import Engine, insert

from masterops.db.tables import products
from masterops.integrations.hubspot import HubSpotConnector
from masterops.sync import inventory
from masterops.sync.inventory_hubspot import ROUND_SIZE, push_products
from masterops.sync.pipeline import RoundPipeline
from masterops.sync.runs import Tally
from masterops_sandbox.harness import SandboxTransport


async def test_at_most_depth_rounds_run_at_once_and_each_result_is_reported() -> None:
    running, most, results = 0, 0, []

    async def round_(n: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        for _ in range(n % 3 + 1):  # rounds of different lengths
            await asyncio.sleep(0)
        running -= 1
        return n

    async with RoundPipeline(3, results.append) as rounds:
        for n in range(10):
            await rounds.submit(round_(n))
    assert most == 3
    assert sorted(results) == list(range(10))


async def test_the_first_failure_cancels_the_rounds_in_flight_and_is_raised() -> None:
    cancelled: list[int] = []
    started: list[int] = []

    async def slow(n: int) -> int:
        started.append(n)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(n)
            raise
        return n

    async def failing() -> int:
        await asyncio.sleep(0)
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        async with RoundPipeline(3) as rounds:
            await rounds.submit(slow(1))
            await rounds.submit(failing())
            await rounds.submit(slow(2))
            await rounds.submit(slow(3))  # waits for a place: the failure comes first
    assert sorted(cancelled) == [1, 2] and 3 not in started


def test_depth_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="depth must be at least 1, got 0"):
        RoundPipeline(0)


class InFlight(httpx.AsyncBaseTransport):
    """The sandbox's transport, noting the most batch calls in flight at once. Each
    answer is held until more than ``hold_until`` calls are in flight, or for at most
    ``hold_s``: a push that overlaps its rounds gets there at once, one that sends a
    round alone never does (it then only waits). Holding instead of counting turns of
    the event loop keeps the test independent of how fast the next round is read."""

    def __init__(self, inner: httpx.AsyncBaseTransport, hold_until: int, hold_s: float) -> None:
        self.inner = inner
        self.hold_until = hold_until
        self.hold_s = hold_s
        self.now = 0
        self.most = 0
        self.inputs = 0
        self.overlapped = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/batch/" not in request.url.path:
            return await self.inner.handle_async_request(request)
        self.inputs += len(json.loads(request.content)["inputs"])
        self.now += 1
        self.most = max(self.most, self.now)
        if self.now > self.hold_until:
            self.overlapped.set()
        try:
            if not self.overlapped.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.overlapped.wait(), self.hold_s)
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_the_inventory_push_sends_the_next_round_while_one_is_answered(
    engine: Engine,
) -> None:
    count = 3 * ROUND_SIZE
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(products),
            [
                {
                    "business_id": BUSINESS,
                    "unleashed_guid": f"00000000-0000-4000-8000-{i:012d}",
                    "product_code": f"SKU-{i:05d}",
                    "description": f"Product {i}",
                    "is_obsolete": False,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
    async with inventory_rig() as rig:
        # hubspot's own batch_concurrency, before the connector exists to ask.
        transport = InFlight(SandboxTransport(app=rig.hubspot_harness), 4, hold_s=2.0)
        hubspot = HubSpotConnector(
            business_id=BUSINESS,
            runtime=rig.runtime,
            token=rig.account.hubspot_token,
            tier="limit_pack",
            base_url="https://api.hubapi.com",
            transport=transport,
            retry=FAST_RETRY,
        )
        rig.opened.append(hubspot)
        rig.hubspot_sandbox.set_tier(BUSINESS, "limit_pack")
        tally = Tally(inventory.KIND, "hubspot")
        await push_products(hubspot, engine, tally, business_id=BUSINESS, full=True)

    # One round alone has at most ``batch_concurrency`` calls in flight.
    assert transport.hold_until == hubspot.batch_concurrency
    assert transport.most > hubspot.batch_concurrency
    assert transport.inputs == count and tally["hubspot_upserted"] == count
    stored = stored_products(engine)
    assert all(r["hubspot_id"] and r["hubspot_synced_at"] for r in stored.values())
