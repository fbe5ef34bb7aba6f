"""HubSpot push pacing: records/s of a full inventory push and a full orders push against
the tier's ceiling (calls per rolling 10 s x 100 inputs per batch call), and against one
call per record, measured in the same run, each on a fresh sandbox HubSpot served on
loopback by its own process (it enforces the rolling window and answers
``X-HubSpot-RateLimit-*``) and a fresh SQLite database.

    .venv/bin/python bench/hubspot_push.py [--seconds 30] [--tier starter]
    .venv/bin/python bench/hubspot_push.py --seconds 180      # the 3-minute figure

``--seconds`` sizes each push to last about that long at the ceiling (``--records``
instead gives the product count; orders get the same number of inputs). Prints per push:
calls, 429s, inputs per batch call, the most calls the sandbox saw in any 10 s, the
pacing (one window over the mean time before a place in the window is used again: 1.0 is
perfect), how often callers were queued at the limiter against how often a token was free
with nobody asking (then the push itself, not the limiter, is what is slow), and records/s
over the ceiling's. Targets: >= 0.97 of the ceiling sustained, 0 x 429, full batches.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import Engine, insert

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import order_lines, orders, products
from masterops.integrations.base import ConnectorRuntime
from masterops.integrations.hubspot import HubSpotConnector
from masterops.integrations.hubspot.ratelimits import TIER_BURST
from masterops.sync import inventory
from masterops.sync import orders as orders_sync
from masterops.sync.inventory_hubspot import GUID_PROPERTY, product_properties, push_products
from masterops.sync.orders_hubspot import push_orders
from masterops.sync.runs import Tally
from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.hubspot import build_hubspot

BUSINESS = "teelixir"
SEED = 11
WINDOW = 10.0
BATCH = 100
#: Inputs per order of the orders push: its deal, its lines and a deal -> line item link
#: per line (lines per order are 1-4, 2.5 on average).
INPUTS_PER_ORDER = 6.0


@dataclass
class Call:
    start: float
    end: float
    status: int
    path: str
    body: bytes | None  # batch calls: the body, its inputs counted after the push

    @property
    def inputs(self) -> int | None:
        """How many inputs a batch call's body carried."""
        if self.body is None:
            return None
        return len(json.loads(self.body).get("inputs", []))


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to the sandbox and notes each one's times, status and body. The
    bodies are decoded after the push: decoding them here took 12 % of the pushing
    process's CPU, which a production pusher does not spend."""

    inner: httpx.AsyncBaseTransport
    calls: list[Call] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.content if "/batch/" in request.url.path and request.content else None
        start = time.monotonic()
        response = await self.inner.handle_async_request(request)
        self.calls.append(
            Call(start, time.monotonic(), response.status_code, request.url.path, body)
        )
        return response


def max_in_window(times: list[float], period: float) -> int:
    times = sorted(times)
    best, end = 0, 0
    for first, t in enumerate(times):
        while end < len(times) and times[end] < t + period:
            end += 1
        best = max(best, end - first)
    return best


def _product_rows(count: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    return [
        {
            "business_id": BUSINESS,
            "unleashed_guid": f"00000000-0000-4000-8000-{i:012d}",
            "product_code": f"SKU-{i:06d}",
            "description": f"Bench product {i}",
            "default_sell_price": 10.0 + i % 50,
            "is_obsolete": False,
            "updated_at": now,
        }
        for i in range(count)
    ]


def _order_rows(count: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    heads: list[dict[str, object]] = []
    lines: list[dict[str, object]] = []
    for i in range(count):
        guid = f"10000000-0000-4000-8000-{i:012d}"
        heads.append(
            {
                "business_id": BUSINESS,
                "unleashed_guid": guid,
                "order_number": f"SO-{i:07d}",
                "order_date": now,
                "status": "Completed" if i % 3 else "Parked",
                "total": 99.5,
                "updated_at": now,
            }
        )
        for number in range(1, rng.randint(1, 4) + 1):
            lines.append(
                {
                    "business_id": BUSINESS,
                    "order_guid": guid,
                    "line_number": number,
                    "line_guid": f"20000000-0000-4000-{number:04d}-{i:012d}",
                    "product_code": f"SKU-{(i * 7 + number) % 1000:06d}",
                    "quantity": float(number),
                    "unit_price": 12.5,
                    "updated_at": now,
                }
            )
    return heads, lines


@dataclass
class Figures:
    label: str
    records: int
    calls: list[Call]
    capacity: int
    limiter: dict[str, float]  # share of samples: queued, free_unasked, full_unasked

    def report(self) -> str:
        paced = [c for c in self.calls if c.status != 429]
        refused = len(self.calls) - len(paced)
        starts = sorted(c.start for c in self.calls)
        elapsed = max(c.end for c in self.calls) - starts[0]
        ceiling_calls = self.capacity / WINDOW
        # Pacing: a place in the rolling window is taken again after how long? Ideally
        # exactly one window; the old bucket took ~11.6 s.
        reuse = [b - a for a, b in zip(starts, starts[self.capacity :], strict=False)]
        pacing = f"{WINDOW / (sum(reuse) / len(reuse)):.4f}" if reuse else "n/a (one burst)"
        batches = [n for c in self.calls if (n := c.inputs) is not None]
        full = sum(1 for n in batches if n == BATCH)
        # Over the ceiling's records/s. A push that keeps the window full gets its first
        # window's burst free: up to one window over the run's length above the ceiling.
        share = self.records / elapsed / (ceiling_calls * BATCH)
        latency = statistics.median(c.end - c.start for c in self.calls)
        return "\n".join(
            [
                f"{self.label}: {self.records:,} records in {elapsed:.1f} s, {len(self.calls):,}"
                f" calls, {refused} x 429, max {max_in_window(starts, WINDOW)} calls in any"
                f" 10 s (limit {self.capacity})",
                f"  batch calls {len(batches):,}: {full:,} full (100 inputs),"
                f" {(sum(batches) / len(batches)) if batches else 0:.1f} inputs per call",
                f"  pacing: one window over the mean time a place is reused: {pacing};"
                f" call latency median {latency:.3f} s",
                f"  limiter samples: callers queued {self.limiter['queued']:.1%}, a token free"
                f" and nobody asking {self.limiter['free_unasked']:.1%}, window full and"
                f" nobody asking {self.limiter['full_unasked']:.1%}",
                f"  records/s {self.records / elapsed:,.1f} = {share:.4f} of the ceiling's"
                f" {ceiling_calls * BATCH:,.0f}",
            ]
        )


def _serve_hubspot(port: int, tier: str) -> None:
    """The sandbox HubSpot in its own process on loopback, as the real one is remote: its
    work does not stall the pushing process's event loop."""
    accounts = {BUSINESS: sandbox_accounts(SEED)[BUSINESS]}
    sandbox, harness = build_hubspot(accounts, seed=SEED)
    sandbox.set_tier(BUSINESS, tier)
    uvicorn.run(harness, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _hubspot_server(tier: str) -> Iterator[str]:
    port = _free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_hubspot, args=(port, tier), daemon=True
    )
    process.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or not process.is_alive():
                    raise RuntimeError("the sandbox HubSpot did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.join(10)


async def _with_hubspot(
    tier: str, engine: Engine, work: Callable[[HubSpotConnector], Awaitable[int]]
) -> tuple[int, list[Call], dict[str, float]]:
    """Run ``work`` against a fresh sandbox; also sample the rate limiter every 20 ms:
    callers queued (the limiter is what holds the push back) or a token free with nobody
    asking (the push itself is: building rows, the database, a starved CPU)."""
    accounts = {BUSINESS: sandbox_accounts(SEED)[BUSINESS]}
    with _hubspot_server(tier) as url:
        recorder = Recorder(httpx.AsyncHTTPTransport())
        hubspot = HubSpotConnector(
            business_id=BUSINESS,
            runtime=ConnectorRuntime(),
            token=accounts[BUSINESS].hubspot_token,
            tier=tier,
            base_url=url,
            transport=recorder,
        )
        samples = {"queued": 0, "free_unasked": 0, "full_unasked": 0}

        async def sample() -> None:
            bucket = hubspot.bucket("default")
            while True:
                await asyncio.sleep(0.02)
                if bucket.waiting:
                    samples["queued"] += 1
                elif bucket.delay() <= 0:
                    samples["free_unasked"] += 1
                else:
                    samples["full_unasked"] += 1

        sampler = asyncio.ensure_future(sample())
        try:
            records = await work(hubspot)
        finally:
            sampler.cancel()
            await hubspot.aclose()
            engine.dispose()
    total = max(1, sum(samples.values()))
    return records, recorder.calls, {k: v / total for k, v in samples.items()}


async def products_push(tier: str, count: int, folder: Path) -> Figures:
    engine = create_db_engine(f"sqlite:///{folder / 'products.db'}")
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(products), _product_rows(count))

    async def work(hubspot: HubSpotConnector) -> int:
        tally = Tally(inventory.KIND, "hubspot")
        await push_products(hubspot, engine, tally, business_id=BUSINESS, full=True)
        return tally["hubspot_upserted"] + tally["hubspot_failed"]

    records, calls, limiter = await _with_hubspot(tier, engine, work)
    return Figures("inventory push (products)", records, calls, TIER_BURST[tier], limiter)


async def orders_push(tier: str, count: int, folder: Path) -> Figures:
    engine = create_db_engine(f"sqlite:///{folder / 'orders.db'}")
    migrate.upgrade(engine)
    heads, lines = _order_rows(count)
    with engine.begin() as conn:
        conn.execute(insert(orders), heads)
        conn.execute(insert(order_lines), lines)

    async def work(hubspot: HubSpotConnector) -> int:
        tally = Tally(orders_sync.KIND, "hubspot")
        await push_orders(hubspot, engine, tally, business_id=BUSINESS, full=True)
        return 0  # counted from the calls: every batch input is a record sent

    _, calls, limiter = await _with_hubspot(tier, engine, work)
    records = sum(c.inputs or 0 for c in calls if c.status != 429)
    label = "orders push (deals, line items, links)"
    return Figures(label, records, calls, TIER_BURST[tier], limiter)


async def one_per_record(tier: str, seconds: float, folder: Path) -> Figures:
    """The baseline: the same product upserts, one record per call, for ``seconds``."""
    engine = create_db_engine(f"sqlite:///{folder / 'baseline.db'}")
    items = [product_properties(row) for row in _product_rows(int(seconds * 1000) + 1000)]

    async def work(hubspot: HubSpotConnector) -> int:
        await hubspot.ensure_property(
            "products", GUID_PROPERTY, label="Unleashed GUID", unique=True
        )
        stop = time.monotonic() + seconds
        sent = 0

        async def worker() -> None:
            nonlocal sent
            while time.monotonic() < stop and sent < len(items):
                item = items[sent]
                sent += 1
                await hubspot.batch_upsert("products", [item], id_property=GUID_PROPERTY)

        await asyncio.gather(*(worker() for _ in range(hubspot.batch_concurrency)))
        return sent

    records, calls, limiter = await _with_hubspot(tier, engine, work)
    return Figures("one call per record (baseline)", records, calls, TIER_BURST[tier], limiter)


async def main(args: argparse.Namespace) -> None:
    capacity = TIER_BURST[args.tier]
    ceiling = capacity / WINDOW * BATCH  # inputs per second at the ceiling
    count = args.records or int(args.seconds * ceiling)
    load = os.getloadavg()[0]
    print(
        f"tier {args.tier}: {capacity} calls per rolling 10 s, ceiling {ceiling:,.0f} records/s;"
        f" load average {load:.1f} on {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = [
            await products_push(args.tier, count, folder),
            await orders_push(args.tier, int(count / INPUTS_PER_ORDER), folder),
            await one_per_record(args.tier, args.baseline_seconds, folder),
        ]
    for figures in results:
        print(figures.report())
    base = results[2]
    base_rate = base.records / (max(c.end for c in base.calls) - min(c.start for c in base.calls))
    for figures in results[:2]:
        calls = figures.calls
        rate = figures.records / (max(c.end for c in calls) - min(c.start for c in calls))
        print(f"{figures.label}: x{rate / base_rate:.1f} the records/s of one call per record")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="each push's length")
    parser.add_argument("--records", type=int, default=0, help="products (instead of --seconds)")
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    parser.add_argument("--tier", default="starter", choices=sorted(TIER_BURST))
    asyncio.run(main(parser.parse_args()))
