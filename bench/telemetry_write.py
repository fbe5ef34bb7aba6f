"""100k integration_logs rows through the batched sink vs one INSERT per row.

Targets: >= 20,000 rows/s through the sink and >= 10x the per-row baseline, on
SQLite and (when MASTEROPS_TEST_DATABASE_URL or --postgres is given) PostgreSQL.
The baseline is what the original did: one INSERT and one commit per log row; it
is measured on a sample of --baseline-rows rows in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, text

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import integration_logs
from masterops.observability.db_sink import DatabaseSink
from masterops.observability.events import LogEvent


def _event(i: int) -> LogEvent:
    return LogEvent(
        source="integration",
        service="hubspot",
        operation="batch_upsert",
        level="info" if i % 10 else "warn",
        message=f"upserted page {i}",
        status="success",
        details={"page": i, "records": 100},
        duration_ms=12.5,
        business_id="teelixir",
    )


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(integration_logs)).scalar_one())


def bench_sink(engine: Engine, rows: int) -> float:
    sink = DatabaseSink(engine, max_batch=2_000, max_queue=rows + 10)
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
        e = _event(i)
        with engine.begin() as conn:
            conn.execute(
                insert(integration_logs).values(
                    source=e.source,
                    service=e.service,
                    operation=e.operation,
                    level=e.level,
                    message=e.message,
                    status=e.status,
                    details_json=e.details,
                    duration_ms=e.duration_ms,
                    business_id=e.business_id,
                    created_at=e.created_at,
                )
            )
    return rows / (time.perf_counter() - start)


def run(label: str, engine: Engine, rows: int, baseline_rows: int) -> None:
    migrate.upgrade(engine)
    baseline = bench_per_row(engine, baseline_rows)
    batched = bench_sink(engine, rows)
    total = _count(engine)
    print(f"{label:10} per-row INSERT: {baseline:10,.0f} rows/s ({baseline_rows:,} rows)")
    print(f"{label:10} batched sink:   {batched:10,.0f} rows/s ({rows:,} rows, {total:,} in table)")
    print(
        f"{label:10} ratio: {batched / baseline:6.1f}x   target >= 10x and >= 20,000 rows/s: "
        f"{'met' if batched >= 20_000 and batched / baseline >= 10 else 'MISSED'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=3_000)
    parser.add_argument("--postgres", default=os.environ.get("MASTEROPS_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_db_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        run("sqlite", engine, args.rows, args.baseline_rows)
        engine.dispose()
    if args.postgres:
        schema = "bench_" + uuid.uuid4().hex[:8]
        admin = create_db_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in args.postgres else "?"
        engine = create_db_engine(f"{args.postgres}{sep}options=-csearch_path%3D{schema}")
        try:
            run("postgresql", engine, args.rows, args.baseline_rows)
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
