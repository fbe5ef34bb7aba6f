"""Webhook ingest throughput: signed deliveries accepted durably per second.

Starts the real app under uvicorn (httptools, uvloop when installed, no access log: as
``ops serve`` runs it) in a subprocess on a free loopback port, on a SQLite file and then
on PostgreSQL when reachable, and drives it with 16 keep-alive clients of the light load
generator (``http_load.py``: raw asyncio streams, requests built and signed before the
timed window). Measured, each for ``--seconds``:

- ``POST /webhooks/hubspot`` with single-event deliveries (the headline: the worst case,
  one event per request) and with ``--events N`` events per delivery (HubSpot batches up
  to 100), every event id unique, each delivery v3-signed;
- ``POST /webhooks/orders/<business>``: one signed Unleashed sales order per delivery
  (a unique ``X-MasterOps-Event-Id`` and Guid each);
- the baseline, in the same run, on the same database, the same way: a bare Starlette
  endpoint that parses the body and INSERTs its events (one row per event) in its own
  transaction per request: no signature, no validation, no group commit;
- the load generator's own ceiling against a fixed-answer server, so a reader knows how
  far the client is from being the bottleneck.

Durability is checked, not assumed: after each server is stopped, the rows of the timed
window in the inbox must equal the events answered 2xx (the receiver answers only once
the transaction holding a request has committed).

    nice -n 10 .venv/bin/python bench/webhook_ingest.py [--runs 3] [--seconds 5]
        [--clients 16] [--events 100] [--only sqlite|postgresql]

With ``--runs`` > 1, min and median over the runs follow the last run. PostgreSQL:
MASTEROPS_BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/mo_ingest-throughput
(a scratch schema in it; skipped when unreachable).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select

from http_load import (
    Outcome,
    ceiling,
    ceiling_line,
    drive,
    free_port,
    http_request,
    run,
    wait_listening,
)
from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import webhook_inbox
from masterops.web.orders_webhook import order_signature
from masterops_sandbox.hubspot import sign_v3
from pg_schema import fresh_schema_url

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/mo_ingest-throughput"
SCHEMA = "webhook_ingest_bench"
SECRET = "bench-client-secret"
ORDER_SECRET = "bench-order-secret"
PORTAL = 990001
BUSINESS = "bench"
HUBSPOT_PATH = "/webhooks/hubspot"
ORDERS_PATH = f"/webhooks/orders/{BUSINESS}"
#: Bytes of pre-built timed requests at most, all clients together.
REQUEST_BUDGET = 300 * 1024 * 1024


# --- the servers (run in a subprocess: ``--serve receiver|baseline``) ---------------------


def _receiver_app(engine: Engine, linger_ms: float | None, in_flight: int | None) -> Any:
    from masterops.web import WebSettings, create_app

    settings = WebSettings(
        hubspot_secrets={BUSINESS: SECRET},
        hubspot_portals={PORTAL: BUSINESS},
        order_webhook_secrets={BUSINESS: ORDER_SECRET},
    )
    app = create_app(engine, settings)
    if linger_ms is not None:
        app.state.inbox_writer.linger_s = linger_ms / 1000
    if in_flight is not None:
        app.state.inbox_writer.max_in_flight = in_flight
    return app


def _baseline_app(engine: Engine) -> Any:
    from datetime import UTC, datetime

    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    if engine.dialect.name == "sqlite":
        # As durable as the receiver's commits (the inbox flushes the WAL to disk before
        # it answers, web/wal_flush.py): FULL flushes the WAL at each commit, so the
        # ratio compares like with like.
        @event.listens_for(engine, "connect")
        def full(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA synchronous=FULL")

    def insert(rows: list[dict[str, Any]]) -> None:
        now = datetime.now(UTC)
        for row in rows:
            row.update(business_id=BUSINESS, received_at=now, status="pending", attempts=0)
        with engine.begin() as conn:
            conn.execute(webhook_inbox.insert(), rows)

    async def hubspot(request: Request) -> JSONResponse:
        events = json.loads(await request.body())
        rows = [
            {"source": "hubspot", "event_id": str(e["eventId"]), "payload_json": e} for e in events
        ]
        await run_in_threadpool(insert, rows)
        return JSONResponse({"received": len(rows)})

    async def order(request: Request) -> JSONResponse:
        payload = json.loads(await request.body())
        event_id = f"{BUSINESS}:{request.headers['x-masterops-event-id']}"
        row = {"source": "orders", "event_id": event_id, "payload_json": payload}
        await run_in_threadpool(insert, [row])
        return JSONResponse({"received": 1}, status_code=202)

    return Starlette(
        routes=[
            Route(HUBSPOT_PATH, hubspot, methods=["POST"]),
            Route("/webhooks/orders/{business}", order, methods=["POST"]),
        ]
    )


def serve(kind: str, url: str, port: int, linger_ms: float | None, in_flight: int | None) -> None:
    import uvicorn

    engine = create_db_engine(url)
    app = (
        _receiver_app(engine, linger_ms, in_flight) if kind == "receiver" else _baseline_app(engine)
    )
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="auto",  # uvloop when installed
        log_level="warning",
        access_log=False,
        server_header=False,
        lifespan="on",
    )
    # uvicorn stops on SIGTERM, then raises it again with the handler it found: a no-op
    # one lets this process print its summary instead of dying there.
    signal.signal(signal.SIGTERM, lambda *_: None)
    uvicorn.Server(config).run()
    engine.dispose()
    if kind == "receiver":
        writer = app.state.inbox_writer
        n = max(writer.batches, 1)
        print(
            f"    (receiver's group commit: {writer.batches} transactions, "
            f"{writer.batched_deliveries / n:.1f} deliveries and "
            f"{1000 * writer.batch_seconds / n:.1f} ms each on average, "
            f"linger {1000 * writer.linger_s:g} ms, up to {writer.max_in_flight} in flight)",
            flush=True,
        )


# --- the deliveries ------------------------------------------------------------------------


def _hubspot_delivery(host: str, tag: str, n: int, per_delivery: int) -> bytes:
    events = [
        {
            "eventId": f"{tag}-{n}-{i}",
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
    body = json.dumps(events).encode()
    stamp = int(time.time() * 1000)
    signature = sign_v3(SECRET, "POST", f"http://{host}{HUBSPOT_PATH}", body, stamp)
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": str(stamp),
    }
    return http_request(HUBSPOT_PATH, host, headers, body)


def _order_template() -> dict[str, Any]:
    from masterops_sandbox.accounts import sandbox_accounts
    from masterops_sandbox.unleashed import build_unleashed

    accounts = sandbox_accounts(1)
    business = next(iter(accounts))
    sandbox, _ = build_unleashed({business: accounts[business]}, seed=3, volume=5)
    return sandbox.to_json(sandbox.orders(business)[0])


def _order_delivery(template: dict[str, Any], host: str, tag: str, n: int) -> bytes:
    body = json.dumps(
        {**template, "Guid": f"00000000-0000-4000-8000-{n:012d}", "OrderNumber": f"SO-{n}"}
    ).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-MasterOps-Timestamp": stamp,
        "X-MasterOps-Signature": order_signature(ORDER_SECRET, stamp, body),
        "X-MasterOps-Event-Id": f"{tag}-{n}",
    }
    return http_request(ORDERS_PATH, host, headers, body)


@dataclass(frozen=True)
class Scenario:
    label: str
    per_delivery: int  # events per delivery
    build: Callable[[str, str, int], bytes]  # (host, tag, n) -> one request
    stored_like: str  # event_id LIKE pattern of a tag's rows, "{tag}" filled in


def _scenarios(events: int) -> list[Scenario]:
    template = _order_template()
    found = [
        Scenario(
            "hubspot, 1 event/delivery",
            1,
            lambda host, tag, n: _hubspot_delivery(host, tag, n, 1),
            "{tag}-%",
        ),
        Scenario(
            f"hubspot, {events} events/delivery",
            events,
            lambda host, tag, n: _hubspot_delivery(host, tag, n, events),
            "{tag}-%",
        ),
        Scenario(
            "orders, 1 order/delivery",
            1,
            lambda host, tag, n: _order_delivery(template, host, tag, n),
            f"{BUSINESS}:{{tag}}-%",
        ),
    ]
    return found if events > 1 else [found[0], found[2]]


# --- measuring -----------------------------------------------------------------------------


def _stored(engine: Engine, pattern: str) -> int:
    with engine.connect() as conn:
        stmt = select(func.count()).select_from(webhook_inbox)
        return int(conn.execute(stmt.where(webhook_inbox.c.event_id.like(pattern))).scalar_one())


def _measure(
    kind: str, scenario: Scenario, url: str, engine: Engine, args: Any
) -> tuple[Outcome, str]:
    """The clients' outcome, and what the server printed on its way out."""
    port = free_port()
    host = f"127.0.0.1:{port}"
    command = [sys.executable, __file__, "--serve", kind, "--url", url, "--port", str(port)]
    if args.linger_ms is not None:
        command += ["--linger-ms", str(args.linger_ms)]
    if args.in_flight is not None:
        command += ["--in-flight", str(args.in_flight)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    tag = f"{kind[0]}{time.time_ns() // 1000}"
    sample = scenario.build(host, f"{tag}s", 0)
    per_client = min(
        int(args.seconds * args.max_rate / args.clients) + 1,
        REQUEST_BUDGET // (len(sample) * args.clients) + 1,
    )
    warmup = [
        [scenario.build(host, f"{tag}w", c * 1000 + n) for n in range(20)]
        for c in range(args.clients)
    ]
    timed = [
        [scenario.build(host, f"{tag}t", c * per_client + n) for n in range(per_client)]
        for c in range(args.clients)
    ]
    try:

        async def load() -> Outcome:
            await wait_listening(port, process)
            return await drive(port, warmup, timed, args.seconds, server_pid=process.pid)

        result = run(load())
    finally:
        process.terminate()  # uvicorn stops gracefully on SIGTERM: in-flight requests finish
        said, _ = process.communicate(timeout=60)
    assert isinstance(result, Outcome)
    answered = result.ok * scenario.per_delivery
    stored = _stored(engine, scenario.stored_like.format(tag=f"{tag}t"))
    if stored != answered:
        print(f"  ! {kind}: {answered} events were answered 2xx, {stored} are stored")
    if result.exhausted:
        print(f"  ! {result.exhausted} client(s) ran out of requests: raise --max-rate")
    return result, said.rstrip()


def _line(label: str, r: Outcome, per_delivery: int) -> str:
    server_ms, client_ms = r.cpu_ms_per_request()
    return (
        f"    {label:<9} {r.rate() * per_delivery:8.0f} events/s  {r.rate():7.0f} deliveries/s"
        f"  p50 {r.percentile(0.5):6.1f} ms  p99 {r.percentile(0.99):6.1f} ms  "
        f"CPU/delivery server {server_ms:.2f} ms, client {client_ms:.3f} ms  "
        f"({r.ok} answered 2xx, {r.refused} refused)"
    )


Figures = dict[tuple[str, str, str], list[tuple[float, float, float]]]


def _database(name: str, url: str, args: Any, figures: Figures) -> None:
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    print(f"{name}: {args.clients} clients, {args.seconds} s each")
    for scenario in _scenarios(args.events):
        print(f"  {scenario.label}")
        rates: dict[str, float] = {}
        for kind in ("baseline", "receiver"):
            r, said = _measure(kind, scenario, url, engine, args)
            print(_line(kind, r, scenario.per_delivery))
            if said:
                print(said)
            rates[kind] = r.rate() * scenario.per_delivery
            figures[(name, scenario.label, kind)].append(
                (rates[kind], r.percentile(0.5), r.percentile(0.99))
            )
        print(f"    ratio receiver/baseline events/s: {rates['receiver'] / rates['baseline']:.2f}")
    engine.dispose()


def _postgres_url() -> str | None:
    return fresh_schema_url(os.environ.get("MASTEROPS_BENCH_DATABASE_URL", DEFAULT_PG), SCHEMA)


def _summary(figures: Figures, runs: int) -> None:
    print(f"over {runs} runs: events/s min / median, p50 median, p99 min / median (ms)")
    for (db, label, kind), values in figures.items():
        rates = [v[0] for v in values]
        p50s = [v[1] for v in values]
        p99s = [v[2] for v in values]
        print(
            f"  {db:<10} {label:<28} {kind:<9} {min(rates):8.0f} / {statistics.median(rates):8.0f}"
            f"  p50 {statistics.median(p50s):6.1f}"
            f"  p99 {min(p99s):6.1f} / {statistics.median(p99s):6.1f}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--events", type=int, default=100, help="events per delivery of the multi-event runs"
    )
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--max-rate",
        type=float,
        default=12_000,
        help="deliveries/s the pre-built requests suffice for",
    )
    parser.add_argument(
        "--linger-ms",
        type=float,
        help="the group commit's linger (default: the receiver's own, group_commit.LINGER_S)",
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        help="the group commit's transactions in flight at once (default: the receiver's own, "
        "group_commit.default_in_flight)",
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="one database")
    parser.add_argument("--serve", choices=["receiver", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.url, args.port, args.linger_ms, args.in_flight)
        return 0
    if args.clients < 1 or args.events < 1 or args.runs < 1 or args.seconds <= 0:
        parser.error("--clients, --events and --runs must be at least 1, --seconds above 0")
    print(ceiling_line(ceiling(min(args.seconds, 3.0), args.clients, 400), args.clients))
    figures: Figures = defaultdict(list)
    for number in range(args.runs):
        if args.runs > 1:
            print(f"-- run {number + 1} of {args.runs}")
        if args.only != "postgresql":
            with tempfile.TemporaryDirectory() as folder:
                _database("SQLite", f"sqlite:///{Path(folder) / 'ingest.db'}", args, figures)
        if args.only != "sqlite":
            url = _postgres_url()
            if url is not None:
                _database("PostgreSQL", url, args, figures)
    if args.runs > 1:
        _summary(figures, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
