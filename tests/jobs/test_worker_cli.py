"""``ops worker --once`` end to end: the real entry point, DBOS, the sandbox, the database."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_helpers import drop_system_schema
from sqlalchemy import create_engine, func, select, text

from masterops.config import load_config
from masterops.db.engine import create_db_engine
from masterops.db.tables import health_checks, worker_heartbeats
from masterops.jobs.runtime import executor_id
from masterops.jobs.schedules import plan_schedules


@pytest.fixture
def system_schema_dropped(ops) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """After the test, the DBOS schema the worker made on PostgreSQL is dropped."""
    yield
    drop_system_schema(load_config())


@pytest.mark.usefixtures("system_schema_dropped")
def test_once_health(ops, database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = ops("worker", "--once", "health", "--json")
    report = json.loads(result.stdout)
    [round_] = report["results"]
    assert result.exit_code == report["exit_code"] == round_["exit_code"], result.stderr
    assert round_["checked"] == 13
    engine = create_db_engine(database.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(health_checks)).scalar() == 13
    finally:
        engine.dispose()

    # The run is recorded, durably, in DBOS's system database.
    if database.backend == "sqlite":
        system = create_engine(f"sqlite:///{tmp_path / '.masterops' / 'dbos.sqlite'}")
        query = "SELECT name, status FROM workflow_status"
    else:
        system = create_engine(database.url.replace("postgresql://", "postgresql+psycopg://", 1))
        schema = database.url.rsplit("search_path%3D", 1)[1] + "_dbos"
        query = f'SELECT name, status FROM "{schema}".workflow_status'
    try:
        with system.connect() as conn:
            rows = conn.execute(text(query)).all()
    finally:
        system.dispose()
    assert [tuple(r) for r in rows] == [("masterops.health_round", "SUCCESS")]

    again = ops("worker", "--once", "health", "--business", "teelixir")
    assert "health:" in again.stdout and f"exit code {again.exit_code}" in again.stdout


def test_usage_errors(ops) -> None:  # type: ignore[no-untyped-def]
    assert ops("worker", "--once", "everything").exit_code == 2
    assert ops("worker", "--business", "teelixir").exit_code == 2
    assert ops("worker", "--once", "health", "--business", "nope").exit_code == 2


def test_once_each_unleashed_sync(ops) -> None:  # type: ignore[no-untyped-def]
    for job in ("inventory", "customers", "orders"):
        result = ops("worker", "--once", job, "--business", "boo", "--json")
        assert result.exit_code == 0, (job, result.stderr)
        report = json.loads(result.stdout)
        [run] = report["results"]
        assert run["job"] == job and run["business_id"] == "boo"
        assert run["status"] == "succeeded"
    assert ops("worker", "--once", "executions", "--business", "boo").exit_code == 2


def test_once_webhooks(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("worker", "--once", "webhooks", "--json")
    assert result.exit_code == 0, result.stderr
    [run] = json.loads(result.stdout)["results"]
    assert run["job"] == "webhooks" and run["status"] == "succeeded" and run["claimed"] == 0


def test_once_says_when_each_job_starts_and_ends(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("worker", "--once", "inventory", "--business", "boo")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    [started] = [line for line in lines if "job sync inventory started" in line]
    [ended] = [line for line in lines if "job sync inventory succeeded in " in line]
    assert "boo" in started and "boo" in ended
    assert lines.index(started) < lines.index(ended)

    webhooks = ops("worker", "--once", "webhooks", "--json")
    assert webhooks.exit_code == 0, webhooks.stderr
    assert "job webhooks started" in webhooks.stderr
    assert "job webhooks succeeded in " in webhooks.stderr


def test_run_now_fires_every_schedule_at_start(platform, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The long-running worker with --run-now: the health round runs at once (its
    schedule is five minutes away) and says so; SIGTERM then stops the worker."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "masterops", "worker", "--run-now", "--name", "run-now"],
        cwd=tmp_path,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True)  # type: ignore[union-attr]
    reader.start()
    seen: list[str] = []
    try:
        # A guard against a hung worker, not a speed assertion.
        while not any("job health" in x and " in " in x for x in seen):
            seen.append(lines.get(timeout=120))
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=120)
        reader.join(timeout=10)
    while not lines.empty():
        seen.append(lines.get())
    assert f"fired {len(plan_schedules(platform))} schedule(s) now" in stdout
    assert any("job health started" in x for x in seen), seen
    assert "worker stopped" in stdout
    # It said it was alive (the "worker not seen" alert reads this), as itself.
    engine = create_db_engine(platform.database_url.get_secret_value())
    try:
        with engine.connect() as conn:
            beats = conn.execute(select(worker_heartbeats.c.worker_id, worker_heartbeats.c.pid))
            assert [tuple(b) for b in beats] == [(executor_id("run-now"), proc.pid)]
    finally:
        engine.dispose()
