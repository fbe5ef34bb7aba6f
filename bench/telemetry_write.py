"""Telemetry rows per second: the write path (``RawInsert``: COPY on PostgreSQL, multi-row
INSERT on SQLite) against the driver's ``executemany`` (the path before COPY) and one
INSERT and commit per row (the original baseline), plus the batched sink end to end.

Targets: ``RawInsert`` >= 100,000 rows/s on PostgreSQL and >= 50,000 on SQLite, and >= 20x
the per-row baseline; the sink >= 20,000 rows/s. Runs on SQLite and (when
MASTEROPS_TEST_DATABASE_URL or --postgres is given) PostgreSQL. Each figure is measured
--runs times in the same run; min / median / max are printed (the machine is shared:
read the median).

    .venv/bin/python bench/telemetry_write.py [--rows 100000] [--runs 3] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, delete, func, insert, select, text

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import integration_logs
from masterops.observability.db_sink import DatabaseSink
from masterops.observability.events import LogEvent
from masterops.observability.raw_insert import RawInsert, _Plan

BATCH = 2_000  # rows per transaction, as the sink's writer batches them in the bench
#: RawInsert's rows per CPU second of this process (all the work on SQLite, the client's
#: share on PostgreSQL): what the figure would be on an idle machine, for context.
CPU_RATES: list[float] = []
#: PostgreSQL: RawInsert's rows per CPU second of the server process that took them
#: (read from /proc when the server runs on this machine): the server's share.
SERVER_CPU_RATES: list[float] = []
_TICKS = os.sysconf("SC_CLK_TCK")


def _server_cpu(engine: Engine) -> tuple[int, float] | None:
    """The backend serving the pool's connection and its CPU seconds so far, or None
    (SQLite, or a server on another machine)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        pid = conn.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return pid, (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def _event(i: int) -> LogEvent:
    return LogEvent(
        source="integration",
        service="hubspot",
        operation="batch_upsert",
        level="info" if i % 10 else "warn",
        message=f"upserted page {i}\twith a tab",
        status="success",
        details={"page": i, "records": 100, "note": "line\nbreak"},
        duration_ms=12.5,
        business_id="teelixir",
    )


def _row(e: LogEvent) -> dict[str, Any]:
    return {
        "source": e.source,
        "service": e.service,
        "operation": e.operation,
        "level": e.level,
        "status": e.status,
        "message": e.message,
        "details_json": e.details,
        "duration_ms": e.duration_ms,
        "business_id": e.business_id,
        "workflow_id": e.workflow_id,
        "integration_id": e.integration_id,
        "user_id": e.user_id,
        "created_at": e.created_at,
    }


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(integration_logs)).scalar_one())


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(integration_logs))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM integration_logs"))


def bench_raw_insert(
    engine: Engine, rows: list[dict[str, Any]], table: Table = integration_logs
) -> float:
    """The write path as the sink's writer thread drives it: a transaction per batch."""
    writer = RawInsert(table)
    server = _server_cpu(engine)
    pids = set()
    start, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            writer.execute(conn, rows[first : first + BATCH])
            if server is not None:
                pids.add(conn.connection.driver_connection.info.backend_pid)  # type: ignore[union-attr]
    elapsed = time.perf_counter() - start
    CPU_RATES.append(len(rows) / (time.process_time() - cpu))
    after = _server_cpu(engine)
    if server is not None and after is not None and pids == {server[0]} == {after[0]}:
        SERVER_CPU_RATES.append(len(rows) / max(after[1] - server[1], 1 / _TICKS))
    return len(rows) / elapsed


def bench_executemany(engine: Engine, rows: list[dict[str, Any]]) -> float:
    """The path before COPY: the same converted tuples through the driver's executemany."""
    columns = list(rows[0])
    with engine.connect() as conn:
        dialect = conn.dialect.name
        marker = "?" if dialect == "sqlite" else "%s"
        quote = conn.dialect.identifier_preparer.quote
    # Values as an INSERT binds them (JSON as text): the plan of a non-COPY driver.
    plan = _Plan(integration_logs, dialect, tuple(columns), quote, 999)
    sql = (
        f"INSERT INTO integration_logs ({', '.join(columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    start = time.perf_counter()
    for first in range(0, len(rows), BATCH):
        with engine.begin() as conn:
            conn.exec_driver_sql(sql, plan.values(rows[first : first + BATCH]))
    return len(rows) / (time.perf_counter() - start)


def bench_sink(engine: Engine, rows: int) -> float:
    """End to end: events built, queued, redacted and written by the sink's thread."""
    sink = DatabaseSink(engine, max_batch=BATCH, max_queue=rows + 10)
    start = time.perf_counter()
    for i in range(rows):
        sink(_event(i))
    sink.close()
    elapsed = time.perf_counter() - start
    assert sink.stats.logs.written == rows, sink.stats
    return rows / elapsed


def bench_per_row(engine: Engine, rows: int) -> float:
    start = time.perf_counter()
    for i in range(rows):
        with engine.begin() as conn:
            conn.execute(insert(integration_logs).values(**_row(_event(i))))
    return rows / (time.perf_counter() - start)


def _measure(engine: Engine, runs: int, fn: Callable[[], float]) -> list[float]:
    figures = []
    for _ in range(runs):
        _empty(engine)
        figures.append(fn())
    return figures


def _line(label: str, what: str, figures: list[float], note: str = "") -> float:
    median = statistics.median(figures)
    print(
        f"{label:10} {what:22} median {median:9,.0f} rows/s  "
        f"(min {min(figures):,.0f}, max {max(figures):,.0f}){note}"
    )
    return median


def _bare_table(engine: Engine) -> Table:
    """PostgreSQL: a copy of integration_logs with its primary key and no other index."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE integration_logs_bare (LIKE integration_logs INCLUDING DEFAULTS);"
                " ALTER TABLE integration_logs_bare ADD PRIMARY KEY (id)"
            )
        )
    return Table("integration_logs_bare", MetaData(), autoload_with=engine)


def index_share(label: str, engine: Engine, rows: list[dict[str, Any]], runs: int) -> None:
    """Where the server's time goes: the same rows into a copy without the secondary
    indexes, in the same run; the difference in server CPU a row is their upkeep."""
    bare = _bare_table(engine)
    figures = []
    for _ in range(runs):
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE integration_logs_bare"))
        figures.append(bench_raw_insert(engine, rows, bare))
    _line(label, "RawInsert, PK only", figures)
    CPU_RATES.clear()
    if SERVER_CPU_RATES:
        bare_rate = statistics.median(SERVER_CPU_RATES)
        print(f"{label:10} {'PK only per server CPU s':22} median {bare_rate:9,.0f} rows/s")
        SERVER_CPU_RATES.clear()
        _measure(engine, runs, lambda: bench_raw_insert(engine, rows))  # for its CPU
        full_rate = statistics.median(SERVER_CPU_RATES)
        share = 1 - full_rate / bare_rate
        print(
            f"{label:10} server CPU a row: {1e6 / full_rate:.1f} us with integration_logs'"
            f" indexes, {1e6 / bare_rate:.1f} us with its primary key only: the secondary"
            f" indexes take {share:.0%} of the server's work"
        )
    SERVER_CPU_RATES.clear()
    CPU_RATES.clear()
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE integration_logs_bare"))


def run(label: str, engine: Engine, rows: int, baseline_rows: int, runs: int) -> None:
    migrate.upgrade(engine)
    events = [_event(i) for i in range(rows)]
    prepared = [_row(e) for e in events]
    goal = 100_000 if engine.dialect.name == "postgresql" else 50_000
    per_row = _line(
        label,
        "per-row INSERT",
        _measure(engine, runs, lambda: bench_per_row(engine, baseline_rows)),
    )
    many = _line(
        label,
        "executemany (before)",
        _measure(engine, runs, lambda: bench_executemany(engine, prepared)),
    )
    raw = _line(
        label,
        "RawInsert (now)",
        _measure(engine, runs, lambda: bench_raw_insert(engine, prepared)),
        f"  {rows:,} rows, {_count(engine):,} in table",
    )
    sink = _line(label, "sink end to end", _measure(engine, runs, lambda: bench_sink(engine, rows)))
    print(
        f"{label:10} {'RawInsert per CPU s':22} median {statistics.median(CPU_RATES):9,.0f} rows/s"
    )
    CPU_RATES.clear()
    if SERVER_CPU_RATES:
        print(
            f"{label:10} {'RawInsert per server CPU s':22} median "
            f"{statistics.median(SERVER_CPU_RATES):9,.0f} rows/s"
        )
    SERVER_CPU_RATES.clear()
    met = raw >= goal and raw / per_row >= 20
    print(
        f"{label:10} RawInsert x{raw / per_row:,.0f} per-row, x{raw / many:.2f} executemany; "
        f"target >= {goal:,} rows/s and >= 20x per-row: {'met' if met else 'MISSED'}; "
        f"sink >= 20,000 rows/s: {'met' if sink >= 20_000 else 'MISSED'}"
    )
    if engine.dialect.name == "postgresql":
        index_share(label, engine, prepared, runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("MASTEROPS_TEST_DATABASE_URL"))
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        run("sqlite", engine, args.rows, args.baseline_rows, args.runs)
        engine.dispose()
    if args.postgres:
        schema = "bench_" + uuid.uuid4().hex[:8]
        admin = create_db_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in args.postgres else "?"
        engine = create_db_engine(f"{args.postgres}{sep}options=-csearch_path%3D{schema}")
        try:
            run("postgresql", engine, args.rows, args.baseline_rows, args.runs)
        finally:
            engine.dispose()
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    else:
        print("postgresql: skipped (set MASTEROPS_TEST_DATABASE_URL or pass --postgres URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
