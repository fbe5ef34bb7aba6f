"""Peak memory of ``ops export`` (the operation behind it) for a small and a 10x larger
table: streaming keeps it constant, so the ratio of the two peaks is about 1.

Fills ``api_metrics`` of a fresh SQLite file (or, with ``--database-url``, a PostgreSQL
database you can wipe: the table is emptied first) with ``--small`` rows and exports them
as CSV and as JSON Lines to /dev/null, each export in a child process that reports how far
its resident memory rose above what it held before the export (VmHWM - VmRSS, Linux); then
adds rows up to ``--large`` and exports again. Prints each rise and the ratio large/small.
(tracemalloc would isolate Python's own allocations but slows the export tenfold.)

    .venv/bin/python bench/export_memory.py [--small 100000] [--large 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, delete, insert

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import api_metrics

BATCH = 20_000


def fill(engine: Engine, start: int, stop: int) -> None:
    when = datetime(2026, 4, 5, tzinfo=UTC)
    for first in range(start, stop, BATCH):
        rows = [
            {
                "service": "hubspot",
                "endpoint": f"/crm/v3/objects/contacts/{i}",
                "method": "GET",
                "status_code": 200,
                "success": True,
                "duration_ms": 12.5,
                "operation": "contacts.get",
                "business_id": "teelixir",
                "created_at": when,
            }
            for i in range(first, min(first + BATCH, stop))
        ]
        with engine.begin() as conn:
            conn.execute(insert(api_metrics), rows)


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(url: str, fmt: str) -> None:
    """One export in this process; prints rows, the memory rise (kB) and seconds."""
    from masterops.operations.reports import export_relation

    engine = create_db_engine(url)
    with engine.connect():  # connect (and load the driver) before measuring
        pass
    before = _status_kb("VmRSS")
    started = time.perf_counter()
    with Path(os.devnull).open("w", encoding="utf-8") as sink:
        count = export_relation(engine, "api_metrics", fmt, sink)
    took = time.perf_counter() - started
    rise = _status_kb("VmHWM") - before
    print(json.dumps({"rows": count, "rise_kb": rise, "seconds": took}))


def measure(url: str, fmt: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", fmt, "--database-url", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.database_url, args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'export.db'}"
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(delete(api_metrics))
        print(f"database: {engine.dialect.name}")
        rises: dict[str, dict[int, float]] = {"csv": {}, "json": {}}
        filled = 0
        for size in (args.small, args.large):
            fill(engine, filled, size)
            filled = size
            for fmt in ("csv", "json"):
                got = measure(url, fmt)
                rises[fmt][size] = got["rise_kb"]
                print(
                    f"{fmt:>4} {int(got['rows']):>9,} rows: memory rose "
                    f"{got['rise_kb'] / 1024:6.1f} MB, {got['seconds']:6.1f} s "
                    f"({got['rows'] / got['seconds']:,.0f} rows/s)"
                )
        engine.dispose()
    for fmt, by_size in rises.items():
        ratio = by_size[args.large] / max(by_size[args.small], 1)
        print(
            f"{fmt}: rise at {args.large:,} rows / rise at {args.small:,} rows = {ratio:.2f}"
            f" (rows x{args.large / args.small:g})"
        )


if __name__ == "__main__":
    main()
