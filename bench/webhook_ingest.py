"""Webhook ingest throughput: signed HubSpot deliveries accepted durably per second.

Starts the real app under uvicorn in a subprocess on a free loopback port (a SQLite file,
then PostgreSQL when reachable) and drives ``POST /webhooks/hubspot`` with 16 concurrent
httpx clients for a few seconds. Every delivery carries ``--events`` events (HubSpot
batches up to 100 per delivery; 1 is the worst case) with unique event ids, each signed
with the v3 signature. A 200 counts only its events; the rows in the inbox are counted
afterwards and must equal the events answered 200 (an answer given before the commit
would show here as missing rows once the server is stopped).

The baseline, measured in the same run the same way on the same database, is a bare
Starlette endpoint that parses the body and runs one INSERT of its events per request in
its own transaction (no signature, no validation). The ratio is receiver / baseline.

    .venv/bin/python bench/webhook_ingest.py [--seconds 5] [--clients 16] [--events 1]

PostgreSQL: MASTEROPS_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/mo_ingest-throughput (skipped when unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select, text

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import webhook_inbox
from masterops_sandbox.hubspot import sign_v3

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/mo_ingest-throughput"
SCHEMA = "webhook_ingest_bench"
SECRET = "bench-client-secret"
PORTAL = 990001
BUSINESS = "bench"


# --- the servers (run in a subprocess: ``--serve receiver|baseline``) ---------------------


def _receiver_app(engine: Engine) -> Any:
    from masterops.web import WebSettings, create_app

    settings = WebSettings(hubspot_secrets={BUSINESS: SECRET}, hubspot_portals={PORTAL: BUSINESS})
    return create_app(engine, settings)


def _baseline_app(engine: Engine) -> Any:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    def insert(events: list[dict[str, Any]]) -> None:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        rows = [
            {
                "source": "hubspot",
                "event_id": str(e["eventId"]),
                "business_id": BUSINESS,
                "payload_json": e,
                "received_at": now,
                "status": "pending",
                "attempts": 0,
            }
            for e in events
        ]
        with engine.begin() as conn:
            conn.execute(webhook_inbox.insert(), rows)

    async def ingest(request: Request) -> JSONResponse:
        events = json.loads(await request.body())
        await run_in_threadpool(insert, events)
        return JSONResponse({"received": len(events)})

    return Starlette(routes=[Route("/webhooks/hubspot", ingest, methods=["POST"])])


def serve(kind: str, url: str, port: int) -> None:
    import uvicorn

    engine = create_db_engine(url)
    app = _receiver_app(engine) if kind == "receiver" else _baseline_app(engine)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )
    uvicorn.Server(config).run()
    engine.dispose()


# --- the load ------------------------------------------------------------------------------


@dataclass
class Result:
    seconds: float
    deliveries: int
    events: int
    failures: int
    latencies_ms: list[float]
    server_cpu_s: float  # CPU the server process used while measured (the machine is shared)
    client_cpu_s: float  # and the load generator (this process)

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    def line(self, label: str) -> str:
        return (
            f"  {label:<9} {self.events_per_s:8.0f} events/s  "
            f"{self.deliveries / self.seconds:7.0f} deliveries/s  "
            f"p50 {self.percentile(0.50):6.1f} ms  p99 {self.percentile(0.99):6.1f} ms  "
            f"CPU/delivery server {1000 * self.server_cpu_s / max(self.deliveries, 1):.2f} ms, "
            f"clients {1000 * self.client_cpu_s / max(self.deliveries, 1):.2f} ms  "
            f"({self.deliveries} deliveries, {self.failures} refused)"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start listening within 60 s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _drive(
    port: int, pid: int, seconds: float, clients: int, per_delivery: int, tag: str
) -> Result:
    uri = f"http://127.0.0.1:{port}/webhooks/hubspot"
    latencies: list[float] = []
    counts = {"deliveries": 0, "events": 0, "failures": 0}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(worker: int, stop_at: float) -> None:
            n = 0
            while time.perf_counter() < stop_at:
                events = [
                    {
                        "eventId": f"{tag}-{worker}-{n}-{i}",
                        "subscriptionId": 7,
                        "portalId": PORTAL,
                        "appId": 1,
                        "occurredAt": 1_767_225_600_000,
                        "subscriptionType": "contact.propertyChange",
                        "attemptNumber": 0,
                        "objectId": 1000 + n,
                        "propertyName": "email",
                        "propertyValue": f"c{n}@example.com",
                        "changeSource": "CRM_UI",
                    }
                    for i in range(per_delivery)
                ]
                n += 1
                body = json.dumps(events).encode()
                timestamp = int(time.time() * 1000)
                headers = {
                    "Content-Type": "application/json",
                    "X-HubSpot-Signature-v3": sign_v3(SECRET, "POST", uri, body, timestamp),
                    "X-HubSpot-Request-Timestamp": str(timestamp),
                }
                started = time.perf_counter()
                answer = await client.post(uri, content=body, headers=headers)
                latencies.append((time.perf_counter() - started) * 1000)
                if answer.status_code == 200:
                    counts["deliveries"] += 1
                    counts["events"] += per_delivery
                else:
                    counts["failures"] += 1

        # A short warm-up (connections, first queries) is not measured.
        warm = time.perf_counter() + 0.5
        await asyncio.gather(*(one(w + clients, warm) for w in range(clients)))
        latencies.clear()
        counts.update(deliveries=0, events=0, failures=0)
        cpu, own = _cpu_seconds(pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(one(w, started + seconds) for w in range(clients)))
        elapsed = time.perf_counter() - started
        cpu, own = _cpu_seconds(pid) - cpu, time.process_time() - own
    return Result(
        elapsed, counts["deliveries"], counts["events"], counts["failures"], latencies, cpu, own
    )


def _inbox_count(engine: Engine, tag: str) -> int:
    with engine.connect() as conn:
        stmt = select(func.count()).where(webhook_inbox.c.event_id.like(f"{tag}-%"))
        return int(conn.execute(stmt.select_from(webhook_inbox)).scalar_one())


async def _load(
    port: int, process: subprocess.Popen[bytes], args: argparse.Namespace, tag: str
) -> Result:
    await _wait_listening(port, process)
    return await _drive(port, process.pid, args.seconds, args.clients, args.events, tag)


def _measure(kind: str, url: str, engine: Engine, args: argparse.Namespace) -> Result:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--url", url, "--port", str(port)]
    )
    tag = f"{kind}{int(time.time() * 1000)}"
    try:
        result = asyncio.run(_load(port, process, args, tag))
    finally:
        process.terminate()  # uvicorn stops gracefully on SIGTERM: in-flight requests finish
        process.wait(timeout=60)
    # The warm-up's events carry worker numbers >= clients, so they are counted too.
    stored = _inbox_count(engine, tag)
    if stored < result.events:
        print(f"  ! {kind}: {result.events} events were answered 200, only {stored} stored")
    return result


def _database(name: str, url: str, args: argparse.Namespace) -> None:
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    print(f"{name}: {args.clients} clients, {args.events} event(s) per delivery, {args.seconds} s")
    baseline = _measure("baseline", url, engine, args)
    print(baseline.line("baseline"))
    receiver = _measure("receiver", url, engine, args)
    print(receiver.line("receiver"))
    ratio = receiver.events_per_s / baseline.events_per_s if baseline.events else float("nan")
    print(f"  ratio receiver/baseline events/s: {ratio:.2f}")
    engine.dispose()


def _postgres_url(args: argparse.Namespace) -> str | None:
    url = os.environ.get("MASTEROPS_BENCH_DATABASE_URL", DEFAULT_PG)
    admin = create_db_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    except Exception as exc:
        print(f"PostgreSQL: skipped, {url!r} is unreachable ({type(exc).__name__})")
        return None
    finally:
        admin.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{SCHEMA}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--events", type=int, default=1, help="events per delivery")
    parser.add_argument("--serve", choices=["receiver", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.url, args.port)
        return 0
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            _database("SQLite", f"sqlite:///{Path(folder) / 'ingest.db'}", args)
    if args.only != "sqlite":
        url = _postgres_url(args)
        if url is not None:
            _database("PostgreSQL", url, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
