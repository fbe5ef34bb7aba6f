"""Calls per second through BaseConnector (every feature on) against a bare httpx client.

Both clients call the same tiny Starlette app, first in-process (httpx.ASGITransport),
then over loopback HTTP (a uvicorn server in a child process, so the server does not share
the client's event loop). The connector runs with a limiter sized not to throttle, a
breaker, the retry loop, redaction of a configured secret and a telemetry subscriber that
enqueues every event, as the database writers do. Prints both rates and their ratio.

    .venv/bin/python bench/connector_overhead.py [--calls 500] [--rounds 20] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Generator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from masterops.integrations.base import (
    BaseConnector,
    ConnectorRuntime,
    LimitSpec,
    RetryPolicy,
)
from masterops.observability.events import Event, TelemetryHub

TOKEN = "bench-token-0123456789"


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["id"], "ok": True})


app = Starlette(routes=[Route("/objects/{id}", ping)])


class BearerAuth(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {TOKEN}"
        yield request


class BenchConnector(BaseConnector):
    service = "bench"
    default_limits = {"default": LimitSpec(1_000_000, 1.0)}

    async def probe(self) -> None:
        await self.request("GET", "/objects/{id}", path_params={"id": 0}, operation="probe")


async def drive(call: Callable[[int], Awaitable[None]], calls: int, concurrency: int) -> float:
    """Calls per second for ``calls`` calls made by ``concurrency`` workers."""
    counter = iter(range(calls))

    async def worker() -> None:
        for i in counter:
            await call(i)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return calls / (time.perf_counter() - start)


async def measure(
    base_url: str,
    transport_factory: Callable[[], httpx.AsyncBaseTransport | None],
    calls: int,
    concurrency: int,
    rounds: int,
) -> tuple[float, float, float, int]:
    """(bare calls/s, connector calls/s, median of per-round ratios, events emitted)."""
    queue: collections.deque[Event] = collections.deque()
    hub = TelemetryHub()
    hub.subscribe(queue.append)  # a subscriber that only enqueues, like the DB writers
    emitted = 0

    async def writer() -> None:  # drains the queue in batches, as the DB writers do
        nonlocal emitted
        while True:
            await asyncio.sleep(0.05)
            emitted += len(queue)
            queue.clear()

    drain = asyncio.create_task(writer())
    runtime = ConnectorRuntime(hub=hub)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    bare = httpx.AsyncClient(
        base_url=base_url, transport=transport_factory(), auth=BearerAuth(), limits=limits
    )
    connector = BenchConnector(
        business_id="bench",
        runtime=runtime,
        base_url=base_url,
        auth=BearerAuth(),
        transport=transport_factory(),
        retry=RetryPolicy(),
        secrets=[TOKEN],
    )

    async def bare_call(i: int) -> None:
        response = await bare.get(f"/objects/{i}")
        response.raise_for_status()

    async def connector_call(i: int) -> None:
        await connector.request(
            "GET", "/objects/{id}", path_params={"id": i}, operation="get_object"
        )

    await drive(bare_call, calls // 4, concurrency)  # warm up connections and caches
    await drive(connector_call, calls // 4, concurrency)
    bare_time = connector_time = 0.0
    ratios: list[float] = []
    for round_ in range(rounds):
        # Short blocks, back to back, in alternating order: a change in machine load
        # (other processes share the CPUs) hits both sides alike.
        pair = {}
        order = [("bare", bare_call), ("connector", connector_call)]
        for name, call in order if round_ % 2 == 0 else reversed(order):
            pair[name] = await drive(call, calls, concurrency)
        bare_time += calls / pair["bare"]
        connector_time += calls / pair["connector"]
        ratios.append(pair["connector"] / pair["bare"])
    await bare.aclose()
    await connector.aclose()
    drain.cancel()
    emitted += len(queue)
    total = calls * rounds
    return total / bare_time, total / connector_time, statistics.median(ratios), emitted


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def uvicorn_process(port: int) -> Generator[str, None, None]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], env=env, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(500):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def report(label: str, bare: float, connector: float, median_ratio: float, events: int) -> None:
    print(
        f"{label:<22} bare httpx {bare:7.0f} calls/s   BaseConnector {connector:7.0f} calls/s   "
        f"ratio {connector / bare:4.2f} (median of rounds {median_ratio:4.2f})   "
        f"events {events}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per round and side")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import uvicorn

        uvicorn.run(app, host="127.0.0.1", port=args.serve, log_level="error", access_log=False)
        return

    print(f"{args.rounds} rounds of {args.calls} calls per side (loopback: half)")
    for concurrency in (1, args.concurrency):
        figures = asyncio.run(
            measure(
                "http://bench.test",
                lambda: httpx.ASGITransport(app=app),
                args.calls,
                concurrency,
                args.rounds,
            )
        )
        report(f"in-process, conc {concurrency}", *figures)
    with uvicorn_process(free_port()) as url:
        for concurrency in (1, args.concurrency):
            figures = asyncio.run(
                measure(url, lambda: None, args.calls // 2, concurrency, args.rounds)
            )
            report(f"loopback, conc {concurrency}", *figures)


if __name__ == "__main__":
    main()
