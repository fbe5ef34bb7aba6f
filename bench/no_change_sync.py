"""Calls per endpoint per business of a sync run that has nothing to do, against a target of 1.

Each sync (inventory, customers, orders, executions) first runs in full for every business
against the in-process sandbox (one SQLite database in a temporary folder), so the mirror
and HubSpot hold everything; then the sandbox's call logs are cleared and the same sync
runs again, incrementally, one business at a time. Nothing changed in between, so each
endpoint the second run calls should be called at most once per business. The baseline is
the target itself: every figure is printed as calls against it (``x1.00`` meets it).

    .venv/bin/python bench/no_change_sync.py [--volume 60] [--seed 0]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine

from masterops.config import load_config
from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.observability.events import TelemetryHub
from masterops.operations.services import Services, open_services
from masterops.operations.sync import SYNC_ENTITIES, SyncEntity, failures, run_sync

TARGET = 1  # calls per endpoint per business when nothing changed
SYNCS = SYNC_ENTITIES

#: A call log: calls by (service, method, endpoint template).
Calls = Counter[tuple[str, str, str]]


def calls_since_reset(services: Services) -> Calls:
    """What the sandbox saw since its call logs were last cleared, then clear them."""
    seen: Calls = Counter()
    for service in ("hubspot", "unleashed", "n8n"):
        harness = services.sandbox.harness(service)
        for (method, endpoint), count in harness.calls.items():
            seen[(service, method, endpoint)] += count
        harness.reset_calls()
    return seen


async def run_one(
    sync: SyncEntity, services: Services, engine: Engine, slug: str, full: bool
) -> None:
    """One sync of one business through the operation ``ops sync`` runs (fresh
    connectors each time, as one ``ops sync`` run has)."""
    rows = await run_sync(sync, services, engine, [services.config.business(slug)], full=full)
    if failures(rows):
        raise SystemExit(f"{sync} {slug}: the sync failed: {[r.to_dict() for r in rows]}")


async def measure(services: Services, engine: Engine) -> dict[tuple[str, str], Calls]:
    """The calls of a no-change run, by (sync, business)."""
    slugs = list(services.config.businesses)
    # Executions are read once per n8n instance, by the first business that uses it.
    runs = {sync: slugs[:1] if sync == "executions" else slugs for sync in SYNCS}
    for sync in SYNCS:  # in dependency order: orders link products and contacts
        for slug in runs[sync]:
            await run_one(sync, services, engine, slug, full=True)
    calls_since_reset(services)
    measured: dict[tuple[str, str], Calls] = {}
    for sync in SYNCS:
        for slug in runs[sync]:
            await run_one(sync, services, engine, slug, full=False)
            measured[(sync, slug)] = calls_since_reset(services)
    return measured


def report(measured: dict[tuple[str, str], Calls]) -> int:
    """Print every endpoint's calls against the target; the number of endpoints over it."""
    over = 0
    header = f"{'sync':<11} {'business':<9} {'service':<10} {'endpoint':<48}"
    print(f"{header} calls  vs target {TARGET}")
    for (sync, slug), calls in measured.items():
        if not calls:
            print(f"{sync:<11} {slug:<9} {'-':<10} {'(no call at all)':<48} {0:>5}  x0.00")
        for (service, method, endpoint), count in sorted(calls.items()):
            mark = "" if count <= TARGET else "  OVER"
            over += count > TARGET
            label = f"{method} {endpoint}"
            print(
                f"{sync:<11} {slug:<9} {service:<10} {label:<48} {count:>5}  "
                f"x{count / TARGET:.2f}{mark}"
            )
    worst = max((n for calls in measured.values() for n in calls.values()), default=0)
    total = sum(sum(calls.values()) for calls in measured.values())
    print(
        f"\n{total} calls in {len(measured)} no-change runs; worst endpoint x{worst / TARGET:.2f} "
        f"the target; {over} endpoint(s) over it"
    )
    return over


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volume", type=int, default=60, help="Unleashed records per business")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = load_config(environ={}, cwd=Path(folder))
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        migrate.upgrade(engine)
        try:
            with open_services(
                config, TelemetryHub(), engine, seed=args.seed, volume=args.volume
            ) as services:
                measured = asyncio.run(measure(services, engine))
        finally:
            engine.dispose()
    report(measured)


if __name__ == "__main__":
    main()
