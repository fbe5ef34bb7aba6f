"""What the audit trail costs a sync: the same work with the audit triggers and without.

Two measures, on SQLite and (with ``--pg URL``, or MASTEROPS_TEST_DATABASE_URL) PostgreSQL:

1. a full sync (inventory, customers, orders) of every business against the in-process
   sandbox, into a fresh database each run;
2. the mirror's write path alone: ``ROWS`` stock levels upserted in batches of 500 (all
   inserts), then upserted again with every quantity changed (all updates).

The baseline is the same database in the same run with the audit triggers dropped
(``audit_ddl.uninstall``); each figure is the min and median of ``--repeat`` runs and the
ratio audited/baseline of the medians. The machine is shared: expect noise.

    nice -n 10 .venv/bin/python bench/audit_overhead.py [--repeat 5] [--rows 5000]
        [--volume 60] [--pg postgresql://postgres@127.0.0.1:5432/mo_x]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, func, select, text

from masterops.config import load_config
from masterops.db import audit, audit_ddl, migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import audit_log, stock_levels
from masterops.db.upsert import upsert
from masterops.observability.events import TelemetryHub
from masterops.operations.services import open_services
from masterops.operations.sync import failures, run_sync

SYNCS = ("inventory", "customers", "orders")
BATCH = 500


@contextmanager
def fresh_database(
    backend: str, pg_url: str | None, folder: Path, audited: bool
) -> Iterator[Engine]:
    """A migrated database (a new SQLite file, or a new PostgreSQL schema), with or without
    the audit triggers; dropped afterwards."""
    name = "b_" + uuid.uuid4().hex[:10]
    if backend == "sqlite":
        url = f"sqlite:///{folder / (name + '.db')}"
        admin = None
    else:
        assert pg_url is not None
        admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {name}")
        sep = "&" if "?" in pg_url else "?"
        url = f"{pg_url}{sep}options={quote(f'-csearch_path={name}')}"
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine)
        if not audited:
            with engine.begin() as conn:
                audit_ddl.uninstall(conn)
        yield engine
    finally:
        engine.dispose()
        if admin is not None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
            admin.dispose()


def audit_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM audit_log LIMIT 0")).returns_rows:
            return 0
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def full_sync(engine: Engine, folder: Path, volume: int) -> float:
    """Seconds for a full sync of every business (fresh sandbox state each time)."""
    home = folder / uuid.uuid4().hex[:8]
    home.mkdir()
    config = load_config(environ={}, cwd=home)

    async def run() -> None:
        with open_services(config, TelemetryHub(), engine, volume=volume) as services:
            for sync in SYNCS:
                for slug in services.config.businesses:
                    rows = await run_sync(
                        sync, services, engine, [services.config.business(slug)], full=True
                    )
                    if failures(rows):
                        raise SystemExit(f"{sync} {slug} failed: {[r.to_dict() for r in rows]}")

    start = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - start


def write_path(engine: Engine, rows: int) -> tuple[float, float]:
    """Seconds to upsert ``rows`` new stock levels, then to upsert them all changed."""
    now = datetime.now(UTC)

    def batch(qty: float) -> list[dict[str, object]]:
        return [
            {
                "business_id": "teelixir",
                "product_guid": f"p{i:06d}",
                "warehouse_code": "MAIN",
                "product_code": f"P{i}",
                "qty_on_hand": qty,
                "allocated_qty": 0.0,
                "available_qty": qty,
                "updated_at": now,
            }
            for i in range(rows)
        ]

    times = []
    for qty in (1.0, 2.0):
        data = batch(qty)
        start = time.perf_counter()
        for i in range(0, rows, BATCH):
            with engine.begin() as conn:
                upsert(
                    conn,
                    stock_levels,
                    data[i : i + BATCH],
                    keys=["business_id", "product_guid", "warehouse_code"],
                )
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def measure(
    label: str, repeat: int, run: Callable[[bool], tuple[float, ...]], parts: tuple[str, ...]
) -> None:
    got: dict[bool, list[tuple[float, ...]]] = {True: [], False: []}
    for _ in range(repeat):  # interleaved, so load spikes hit both sides alike
        for audited in (False, True):
            got[audited].append(run(audited))
    for i, part in enumerate(parts):
        base = [r[i] for r in got[False]]
        with_audit = [r[i] for r in got[True]]
        ratio = statistics.median(with_audit) / statistics.median(base)
        print(
            f"{label:<10} {part:<22} baseline min {min(base):7.3f}s med "
            f"{statistics.median(base):7.3f}s | audited min {min(with_audit):7.3f}s med "
            f"{statistics.median(with_audit):7.3f}s | x{ratio:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--volume", type=int, default=60, help="Unleashed records per business")
    parser.add_argument("--pg", default=os.environ.get("MASTEROPS_TEST_DATABASE_URL"))
    parser.add_argument("--skip-sync", action="store_true", help="Only the write path.")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.pg else ["sqlite"]
    audit.set_process_actor("bench:audit")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for backend in backends:

            def sync_once(audited: bool, backend: str = backend) -> tuple[float, ...]:
                with fresh_database(backend, args.pg, folder, audited) as engine:
                    seconds = full_sync(engine, folder, args.volume)
                    written = audit_rows(engine)
                print(f"  {backend} sync audited={audited}: {seconds:.3f}s, {written} audit rows")
                return (seconds,)

            def writes_once(audited: bool, backend: str = backend) -> tuple[float, ...]:
                with fresh_database(backend, args.pg, folder, audited) as engine:
                    return write_path(engine, args.rows)

            if not args.skip_sync:
                measure(backend, args.repeat, sync_once, ("full sync",))
            measure(
                backend,
                args.repeat,
                writes_once,
                (f"{args.rows} inserts", f"{args.rows} updates"),
            )


if __name__ == "__main__":
    main()
