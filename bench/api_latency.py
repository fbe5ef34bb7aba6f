"""API latency on a full PostgreSQL: p50/p99 of the main routes over 1M integration_logs.

Fills (once; reused on later runs) a schema ``api_latency`` of the database with 1M
``integration_logs`` rows over 30 days and four businesses, 200k ``api_metrics``, 20k
``sync_runs``, 20k ``health_checks`` and 50k ``workflow_execution_logs`` (COPY), then
times the main routes through the ASGI app in-process (httpx.ASGITransport, no network)
with an admin token, and a business-scoped token for /logs. The baseline, measured in the
same run the same way, is a bare Starlette route running ``SELECT 1`` on the same engine
in a worker thread: the ratio is what the route costs beyond a request and a query.

    .venv/bin/python bench/api_latency.py [--requests 60] [--fresh]

Database: MASTEROPS_BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/mo_bench.
Skipped (exit 0) when it cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine, func, select, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from masterops.db import migrate
from masterops.db.api_tokens import create_token
from masterops.db.engine import create_db_engine
from masterops.db.tables import integration_logs, workflow_execution_logs
from masterops.web import WebSettings, create_app

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/mo_bench"
SCHEMA = "api_latency"
LOG_ROWS = 1_000_000
BUSINESSES = ("teelixir", "elevate", "boo", "rhf")
SERVICES = ("hubspot", "unleashed", "n8n")
DAYS = 30
BASE = "https://bench.local"

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET /api/v1/health", "/api/v1/health", None),
    ("GET /api/v1/logs", "/api/v1/logs", None),
    ("GET /api/v1/logs service+level", "/api/v1/logs?service=hubspot&level=error", None),
    ("GET /api/v1/logs business+since", "/api/v1/logs?business=elevate&since=6h", None),
    ("GET /api/v1/logs level=error 30d", "/api/v1/logs?level=error&since=30d&limit=500", None),
    ("GET /api/v1/logs (scoped token)", "/api/v1/logs", None),
    ("GET /api/v1/stats", "/api/v1/stats", None),
    ("GET /api/v1/stats hours=168", "/api/v1/stats?hours=168", None),
    ("GET /api/v1/sync/runs", "/api/v1/sync/runs", None),
    ("GET /api/v1/api-metrics", "/api/v1/api-metrics", None),
    ("GET /api/v1/api-metrics service", "/api/v1/api-metrics?service=unleashed", None),
    (
        "POST /graphql (small query)",
        "/graphql",
        {"query": "{ businesses { id overall services { name health { status } } } }"},
    ),
    (
        "POST /graphql (syncs+errors)",
        "/graphql",
        {"query": "{ businesses { id syncs(limit: 5) { status } errors(limit: 5) { message } } }"},
    ),
    ("GET /healthz", "/healthz", None),
]


def _reachable(url: str) -> bool:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:
        print(f"api_latency: skipped, PostgreSQL at {url!r} is unreachable ({type(exc).__name__})")
        return False
    finally:
        engine.dispose()


def _schema_engine(url: str, fresh: bool) -> Engine:
    admin = create_db_engine(url)
    with admin.begin() as conn:
        if fresh:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    engine = create_db_engine(f"{url}{sep}options=-csearch_path%3D{SCHEMA}")
    migrate.upgrade(engine)
    return engine


def _copy(engine: Engine, table: str, columns: list[str], rows: Any) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # One COPY of a million rows outlasts the engine's statement timeout (db/deadline.py).
        cursor.execute("SET statement_timeout = 0")
        quoted = ", ".join(f'"{c}"' for c in columns)  # "full" is a reserved word
        statement = f"COPY {table} ({quoted}) FROM STDIN"
        with cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def fill(engine: Engine) -> None:
    with engine.connect() as conn:
        have = int(conn.execute(select(func.count()).select_from(integration_logs)).scalar_one())
        # The last table filled: a fill cut short is redone.
        done = conn.execute(select(workflow_execution_logs.c.id).limit(1)).first() is not None
    if have >= LOG_ROWS and done:
        print(f"reusing {have:,} integration_logs rows in schema {SCHEMA}")
        return
    if have:
        raise SystemExit(f"schema {SCHEMA} holds a fill cut short: run again with --fresh")
    rng = random.Random(7)
    now = datetime.now(UTC)
    span = DAYS * 86_400
    started = time.perf_counter()

    def when() -> datetime:
        return now - timedelta(seconds=rng.random() * span)

    def log_rows() -> Any:
        for i in range(LOG_ROWS):
            level = "error" if i % 50 == 0 else "warn" if i % 10 == 0 else "info"
            yield (
                "integration" if i % 3 else "sync",
                SERVICES[i % 3],
                ("search", "batch_upsert", "list_products")[i % 3],
                level,
                "failed" if level == "error" else "success",
                f"call {i} {level}",
                BUSINESSES[i % 4],
                when(),
            )

    _copy(
        engine,
        "integration_logs",
        [
            "source",
            "service",
            "operation",
            "level",
            "status",
            "message",
            "business_id",
            "created_at",
        ],
        log_rows(),
    )
    _copy(
        engine,
        "api_metrics",
        [
            "service",
            "endpoint",
            "method",
            "status_code",
            "success",
            "duration_ms",
            "business_id",
            "created_at",
        ],
        (
            (
                SERVICES[i % 3],
                f"/objects/{i % 20}",
                "GET",
                200 if i % 20 else 500,
                bool(i % 20),
                rng.random() * 300,
                BUSINESSES[i % 4],
                when(),
            )
            for i in range(200_000)
        ),
    )
    _copy(
        engine,
        "sync_runs",
        [
            "business_id",
            "entity",
            "status",
            "full",
            "fetched",
            "written",
            "failed",
            "started_at",
            "finished_at",
        ],
        (
            (
                BUSINESSES[i % 4],
                ("inventory", "customers", "orders")[i % 3],
                "succeeded",
                False,
                100,
                90,
                0,
                t,
                t + timedelta(seconds=30),
            )
            for i in range(20_000)
            for t in [when()]
        ),
    )
    _copy(
        engine,
        "health_checks",
        ["business_id", "service", "status", "latency_ms", "message", "checked_at"],
        (
            (BUSINESSES[i % 4], SERVICES[(i // 4) % 3], "healthy", rng.random() * 200, "ok", when())
            for i in range(20_000)
        ),
    )
    _copy(
        engine,
        "workflow_execution_logs",
        ["workflow_id", "workflow_name", "business_id", "execution_id", "status", "started_at"],
        (
            (
                f"wf{i % 40}",
                f"Workflow {i % 40}",
                BUSINESSES[i % 4],
                f"ex{i}",
                "error" if i % 25 == 0 else "success",
                when(),
            )
            for i in range(50_000)
        ),
    )
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("SET statement_timeout = 0"))
        conn.execute(text("ANALYZE"))
    print(f"filled schema {SCHEMA} in {time.perf_counter() - started:.0f} s")


def _baseline_app(engine: Engine) -> Starlette:
    async def select_one(request: Request) -> JSONResponse:
        def run() -> int:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT 1")).scalar_one())

        return JSONResponse({"ok": await run_in_threadpool(run)})

    return Starlette(routes=[Route("/select1", select_one)])


async def _time(
    client: httpx.AsyncClient, path: str, body: dict[str, Any] | None, requests: int
) -> list[float]:
    for _ in range(3):  # warm-up: connections, plans, caches
        await _once(client, path, body)
    times: list[float] = []
    for _ in range(requests):
        start = time.perf_counter()
        await _once(client, path, body)
        times.append((time.perf_counter() - start) * 1000)
    return times


async def _once(client: httpx.AsyncClient, path: str, body: dict[str, Any] | None) -> None:
    answer = await (client.post(path, json=body) if body is not None else client.get(path))
    if answer.status_code != 200:
        raise SystemExit(f"{path} answered {answer.status_code}: {answer.text[:200]}")
    if body is not None and answer.json().get("errors"):
        raise SystemExit(f"{path} answered errors: {answer.text[:200]}")


def _p(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(engine: Engine, requests: int) -> None:
    with engine.begin() as conn:
        _, admin = create_token(conn, name=f"bench-{time.time_ns()}", scope="admin")
        _, scoped = create_token(
            conn, name=f"bench-scoped-{time.time_ns()}", scope="read", businesses=["teelixir"]
        )
    app = create_app(engine, WebSettings(rate_limit_per_minute=10**9, rate_limit_burst=10**9))
    headers = {"Authorization": f"Bearer {admin}"}
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_baseline_app(engine)), base_url=BASE
        ) as bare,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE, headers=headers
        ) as client,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=BASE,
            headers={"Authorization": f"Bearer {scoped}"},
        ) as scoped_client,
    ):
        baseline = await _time(bare, "/select1", None, requests)
        base50 = statistics.median(baseline)
        print(f"{'route':38} {'p50 ms':>8} {'p99 ms':>8} {'p50 / baseline':>15}")
        label = "baseline: Starlette route, SELECT 1"
        print(f"{label:38} {base50:8.2f} {_p(baseline, 0.99):8.2f} {1.0:15.1f}")
        for label, path, body in ROUTES:
            who = scoped_client if "scoped" in label else client
            times = await _time(who, path, body, requests)
            p50 = statistics.median(times)
            print(f"{label:38} {p50:8.2f} {_p(times, 0.99):8.2f} {p50 / base50:15.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="timed requests per route")
    parser.add_argument("--fresh", action="store_true", help="drop and refill the schema")
    args = parser.parse_args()
    url = os.environ.get("MASTEROPS_BENCH_DATABASE_URL", DEFAULT_URL)
    if not _reachable(url):
        return 0
    engine = _schema_engine(url, args.fresh)
    try:
        fill(engine)
        asyncio.run(measure(engine, args.requests))
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
