"""Stats at scale: the query time of every ``ops stats`` window, view, trend and the SLO
report over N ``integration_logs`` and N ``api_metrics`` rows, against 100 ms.

Loads N rows of each (default 1M; ``--rows 10M`` for the goal) over ``--days`` (90) and
N/10 ``workflow_execution_logs``, in time order and in random order (a backfill), into a
fresh SQLite file and (when reachable) a fresh schema of PostgreSQL. ``--load fill``
(the default) has the database make the rows (bench/stats_fill.py: a million per
statement) and then runs ``ops stats rebuild`` (``rollups.rebuild``), timed apart;
``--load sink`` writes them the way the telemetry sink does: each batch of raw rows and
its rollup additions in one transaction (raw rows by COPY on PostgreSQL), much slower.
Executions are rolled up by their triggers either way. Then it times each query
``--runs`` times and prints min and median. The baseline, measured in the same run on
the same data, is the raw computation (``run_raw_summary``: no rollups) of the same
summaries for a few windows; the ratio is raw / rolled.

    nice -n 10 .venv/bin/python bench/stats_at_scale.py [--rows 1M] [--db sqlite|postgresql]
        [--order time|random] [--load fill|sink] [--runs 5]

PostgreSQL: MASTEROPS_BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/mo_rollups
(skipped when it cannot be reached). Timings are wall-clock on whatever else the machine runs.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, text

import stats_fill
from masterops.alerts.slo import slo_report
from masterops.config import SloSettings
from masterops.db import migrate, rollups
from masterops.db.engine import create_db_engine
from masterops.db.rollup_reads import trend
from masterops.db.summaries import SUMMARIES, run_raw_summary, run_summary
from masterops.db.tables import workflow_execution_logs
from masterops.db.types import SQLITE_TIME_FORMAT
from pg_schema import fresh_schema_url

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/mo_rollups"
SCHEMA = "stats_at_scale"
GOAL_MS = 100.0
WINDOWS_H = (24, 72, 168, 720, 2160)
BASELINE_H = (24, 720)
BATCH = 20_000
BUSINESSES = ("teelixir", "elevate", "boo", "rhf")
ENDPOINTS = {
    "hubspot": ("/crm/v3/objects/{type}/batch/upsert", "/crm/v3/objects/{type}/search"),
    "unleashed": ("/Products", "/StockOnHand", "/SalesOrders"),
    "n8n": ("/api/v1/executions", "/api/v1/workflows"),
}


def _count(text_value: str) -> int:
    value = text_value.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(value[-1:], 1)
    return int(float(value.rstrip("km")) * scale)


def _times(rnd: random.Random, n: int, days: int, order: str, now: datetime) -> list[datetime]:
    span = days * 86400.0
    ages = [rnd.uniform(60, span) for _ in range(n)]
    if order == "time":
        ages.sort(reverse=True)
    return [now - timedelta(seconds=a) for a in ages]


def _metric_rows(rnd: random.Random, times: list[datetime]) -> Iterator[dict[str, Any]]:
    services = list(ENDPOINTS)
    for at in times:
        service = rnd.choice(services)
        endpoint = rnd.choice(ENDPOINTS[service])
        code = 200 if rnd.random() > 0.03 else rnd.choice((429, 500, 503, 404))
        yield {
            "service": service,
            "endpoint": endpoint,
            "method": "POST" if "batch" in endpoint else "GET",
            "status_code": code,
            "success": code < 400,
            "duration_ms": round(rnd.lognormvariate(5.0, 0.7), 3),
            "operation": endpoint.rsplit("/", 1)[-1],
            "business_id": rnd.choice(BUSINESSES),
            "created_at": at,
        }


def _log_rows(rnd: random.Random, times: list[datetime]) -> Iterator[dict[str, Any]]:
    for at in times:
        level = rnd.choices(("info", "warn", "error"), (90, 7, 3))[0]
        yield {
            "source": rnd.choice(("integration", "sync", "health")),
            "service": rnd.choice(tuple(ENDPOINTS)),
            "operation": rnd.choice(("push", "pull", "check")),
            "level": level,
            "status": "ok" if level == "info" else "failed",
            "message": "bench line",
            "duration_ms": round(rnd.lognormvariate(4.0, 1.0), 3) if level != "info" else None,
            "business_id": rnd.choice(BUSINESSES),
            "created_at": at,
        }


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def _insert_raw(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    if conn.dialect.name == "postgresql":
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(_copy_value(row[c]) for c in columns) + "\n")
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        return
    params = [
        tuple(
            (v.strftime(SQLITE_TIME_FORMAT) if isinstance(v, datetime) else v)
            for v in (row[c] for c in columns)
        )
        for row in rows
    ]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    conn.exec_driver_sql(sql, params)


def load(engine: Engine, n: int, days: int, order: str, now: datetime) -> float:
    """Raw rows and their rollups, batch by batch as the sink writes them; seconds taken."""
    rnd = random.Random(1)
    started = time.perf_counter()
    for table, make in (("api_metrics", _metric_rows), ("integration_logs", _log_rows)):
        rows = make(rnd, _times(rnd, n, days, order, now))
        while True:
            batch = [row for _, row in zip(range(BATCH), rows, strict=False)]
            if not batch:
                break
            with engine.begin() as conn:
                _insert_raw(conn, table, batch)
                rollups.add_rows(conn, batch, table)
    executions = [
        {
            "workflow_id": f"wf{rnd.randint(1, 40)}",
            "workflow_name": "bench",
            "execution_id": str(i),
            "status": rnd.choices(("success", "error"), (95, 5))[0],
            "mode": "trigger",
            "started_at": at,
            "duration_ms": round(rnd.lognormvariate(7, 1), 1),
            "business_id": rnd.choice(BUSINESSES),
        }
        for i, at in enumerate(_times(rnd, max(n // 10, 1), days, order, now))
    ]
    with engine.begin() as conn:
        for start in range(0, len(executions), BATCH):
            conn.execute(insert(workflow_execution_logs), executions[start : start + BATCH])
    _analyze(engine)
    return time.perf_counter() - started


def _analyze(engine: Engine) -> None:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")


def _timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def queries(engine: Engine) -> list[tuple[str, Callable[[Connection], object]]]:
    def window(hours: int, name: str) -> Callable[[Connection], object]:
        return lambda c: run_summary(c, name, datetime.now(UTC) - timedelta(hours=hours))

    found: list[tuple[str, Callable[[Connection], object]]] = []
    for hours in WINDOWS_H:
        for name, label in (
            ("integration_health_summary", "integrations"),
            ("api_performance_summary", "apis"),
            ("workflow_performance_summary", "workflows"),
        ):
            found.append((f"stats --hours {hours} {label}", window(hours, name)))
    for view in SUMMARIES:
        found.append(
            (f"view {view}", lambda c, v=view: c.execute(text(f"SELECT * FROM {v}")).all())
        )
    for days in (30, 90):
        found.append(
            (
                f"trend daily --days {days}",
                lambda c, d=days: trend(c, "daily", d, datetime.now(UTC)),
            )
        )
    found.append(("trend hourly --days 7", lambda c: trend(c, "hourly", 7, datetime.now(UTC))))
    found.append(
        ("slo (30 d, 6 h, 1 h)", lambda c: slo_report(c, SloSettings(), datetime.now(UTC)))
    )
    return found


def measure(engine: Engine, runs: int) -> list[tuple[str, float, float, str]]:
    results = []
    with engine.connect() as conn:
        for label, query in queries(engine):
            low, median = _timed(lambda q=query: q(conn), runs)
            results.append((label, low, median, ""))
        for hours in BASELINE_H:
            for name in ("integration_health_summary", "api_performance_summary"):
                since = datetime.now(UTC) - timedelta(hours=hours)
                raw_ms, _ = _timed(lambda n=name, s=since: run_raw_summary(conn, n, s), 1)
                rolled_ms, _ = _timed(lambda n=name, s=since: run_summary(conn, n, s), 3)
                ratio = f"raw {raw_ms:.0f} ms = {raw_ms / rolled_ms:.0f}x rolled"
                results.append((f"baseline {name} {hours} h", raw_ms, raw_ms, ratio))
    return results


def _pg_engine(url: str) -> Engine | None:
    schema_url = fresh_schema_url(url, SCHEMA)
    return None if schema_url is None else create_db_engine(schema_url)


def run(db: str, n: int, days: int, order: str, how: str, runs: int, folder: Path) -> None:
    if db == "postgresql":
        engine = _pg_engine(os.environ.get("MASTEROPS_BENCH_DATABASE_URL", DEFAULT_PG))
        if engine is None:
            return
    else:
        path = folder / f"stats_{order}.db"
        path.unlink(missing_ok=True)
        engine = create_db_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine)
        now = datetime.now(UTC)
        if how == "sink":
            seconds = load(engine, n, days, order, now)
            how_said = f"as the sink writes, in {seconds:.0f} s"
        else:
            seconds = stats_fill.fill(engine, n, days, order, now)
            started = time.perf_counter()
            rollups.rebuild(engine)
            rebuilt = time.perf_counter() - started
            _analyze(engine)
            how_said = f"generated in {seconds:.0f} s, ops stats rebuild {rebuilt:.0f} s"
        print(f"\n== {db}, {n:,} rows each over {days} d, {order} order, {how_said}")
        print(f"{'query':<52} {'min ms':>8} {'median':>8}  vs {GOAL_MS:.0f} ms")
        for label, low, median, note in measure(engine, runs):
            verdict = note or ("ok" if median < GOAL_MS else "OVER")
            print(f"{label:<52} {low:8.1f} {median:8.1f}  {verdict}")
        sys.stdout.flush()
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1M", help="rows of each log table: 1M, 10M, 200k")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--order", choices=("time", "random"), action="append")
    parser.add_argument(
        "--load",
        choices=("fill", "sink"),
        default="fill",
        help="fill: rows made by the database, then ops stats rebuild (timed); "
        "sink: batches of Python rows and their rollup additions, as the sink writes",
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    n = _count(args.rows)
    for db in args.db or ("sqlite", "postgresql"):
        for order in args.order or ("time", "random"):
            run(db, n, args.days, order, args.load, args.runs, args.folder)


if __name__ == "__main__":
    main()
