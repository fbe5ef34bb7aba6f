"""One run at a time per (business, entity): the lock the CLI and the worker both take."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import Engine, func, select

from masterops.db.tables import sync_runs
from masterops.sync.locks import SyncLocked, sync_lock

# A process that takes a lock, says so, then waits to be killed.
_HOLDER = textwrap.dedent(
    """
    import sys, time
    from masterops.db.engine import create_db_engine
    from masterops.sync.locks import sync_lock

    engine = create_db_engine(sys.argv[1])
    with sync_lock(engine, "teelixir", "orders"):
        print("held", flush=True)
        time.sleep(120)
    """
)


def test_a_second_holder_is_refused_and_told_who_holds_it(engine: Engine) -> None:
    with sync_lock(engine, "teelixir", "orders"):
        with pytest.raises(SyncLocked) as refused, sync_lock(engine, "teelixir", "orders"):
            pass
        message = str(refused.value)
        assert message.startswith("orders sync of teelixir is already running: held by ")
        assert f"pid {os.getpid()}" in message and " since " in message
        # Other businesses and other entities are not held by it.
        with sync_lock(engine, "elevate", "orders"), sync_lock(engine, "teelixir", "customers"):
            pass
    with sync_lock(engine, "teelixir", "orders"):  # released on exit
        pass


def test_a_holder_killed_with_sigkill_frees_the_lock(database, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, database.url],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(SyncLocked) as refused, sync_lock(engine, "teelixir", "orders"):
            pass
        assert f"pid {holder.pid} on " in str(refused.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    # The database (PostgreSQL: the session ends) or the kernel (SQLite: flock) frees it;
    # on PostgreSQL the server notices the dead connection shortly after.
    deadline = time.monotonic() + 20
    while True:
        try:
            with sync_lock(engine, "teelixir", "orders"):
                break
        except SyncLocked:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_ops_sync_refuses_to_overlap_a_running_sync(ops, database) -> None:  # type: ignore[no-untyped-def]
    from masterops.db.engine import create_db_engine

    engine = create_db_engine(database.url)
    try:
        first = ops("sync", "orders", "--business", "teelixir", "--json")
        assert first.exit_code == 0, first.stderr
        with sync_lock(engine, "teelixir", "orders"):
            second = ops("sync", "orders", "--business", "teelixir")
            executions = ops("sync", "executions", "--business", "teelixir", "--json")
            with sync_lock(engine, "teelixir", "executions"):
                blocked = ops("sync", "executions", "--business", "teelixir", "--json")
        assert second.exit_code == 1
        assert "Traceback" not in second.stderr
        line = second.stderr.strip()
        assert "orders sync of teelixir is already running: held by ops" in line
        assert " since " in line and "\n" not in line
        # The refused run recorded nothing; the first one is still the only run.
        with engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(sync_runs).where(sync_runs.c.entity == "orders")
            ).scalar_one()
        assert count == 1
        # Another entity of the same business is free to run.
        assert executions.exit_code == 0, executions.stderr
        assert blocked.exit_code == 1
        report = json.loads(blocked.stdout)
        assert "executions sync of teelixir is already running" in report["results"][0]["message"]
    finally:
        engine.dispose()
