"""The deployment's process topology, without containers: PostgreSQL, ``ops serve``, two
``ops worker`` processes with their own names and ``ops sandbox`` over HTTP. A sync is
started through the API; the worker running it is killed with -9 part-way through its
pages; the other worker takes the job over, resumes after the last page committed and
finishes it. Every effect happens once: each Unleashed page before the kill is read
once, each order is one deal.

PostgreSQL only: on the SQLite default there is one process by design.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from loopback import business_env, hubspot_records, loopback_sandbox
from sqlalchemy import Engine, select, text

from loopback_ports import free_port_block
from masterops.alerts.liveness import worker_subject
from masterops.config import Config
from masterops.db.engine import create_db_engine
from masterops.db.tables import (
    alert_history,
    orders,
    sync_page_progress,
    sync_runs,
    worker_heartbeats,
)
from masterops.jobs.runtime import executor_id, system_database

SLUG = "teelixir"
PAGE_SIZE = 10
# Slow answers (and small pages) stretch the orders walk over several seconds.
FAULTS = "hubspot:rate_slow=1,slow_seconds=0.03;unleashed:rate_slow=1,slow_seconds=0.15"
# Short beats so the takeover comes within seconds; several beats of margin, so that a
# live worker slowed down by a loaded machine is never taken for dead.
SETTINGS = f"""
[workers]
heartbeat_s = 0.5
takeover_after_s = 6

[limits]
unleashed_page_size = {PAGE_SIZE}
"""
T = TypeVar("T")


def _until(what: str, check: Callable[[], T | None], timeout_s: float = 120) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@contextmanager
def _process(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[Any]:
    """``ops <args>`` running until the block ends (SIGINT, then SIGKILL if it lingers);
    its output goes to ``log`` (a pipe nobody reads would fill and block it)."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "masterops", *args], cwd=cwd, env=env, stdout=out, stderr=out
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


def _ops(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "masterops", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _workflow(config: Config, workflow_id: str) -> tuple[str, str] | None:
    """(status, executor id) of a workflow in the system database."""
    url, schema = system_database(config)
    system = create_db_engine(url)
    try:
        with system.connect() as conn:
            row = conn.execute(
                text(
                    f'SELECT status, executor_id FROM "{schema}".workflow_status '
                    "WHERE workflow_uuid = :id"
                ),
                {"id": workflow_id},
            ).first()
    finally:
        system.dispose()
    return None if row is None else (str(row[0]), str(row[1]))


def _pages_committed(engine: Engine) -> int:
    t = sync_page_progress
    with engine.connect() as conn:
        row = conn.execute(
            select(t.c.page, t.c.done).where(
                t.c.business_id == SLUG, t.c.entity == "orders", t.c.stage == "orders"
            )
        ).first()
    return 0 if row is None or row.done else int(row.page)


def _calls(info: dict[str, Any], endpoint: str) -> int:
    body = httpx.get(f"{info['urls']['unleashed']}/_sandbox/calls", timeout=10).json()
    return sum(c["count"] for c in body["calls"] if c["endpoint"] == endpoint)


def test_a_killed_workers_sync_is_finished_by_the_other_once(
    platform: Config, database: Any, tmp_path: Path
) -> None:
    if database.backend != "postgresql":
        pytest.skip("SQLite serves one process by design: the topology needs PostgreSQL")
    (tmp_path / "masterops.toml").write_text(SETTINGS)
    engine = create_db_engine(platform.database_url.get_secret_value())
    with ExitStack() as stack:
        stack.callback(engine.dispose)
        info = stack.enter_context(loopback_sandbox(tmp_path, faults=FAULTS))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
        env["MASTEROPS_DATABASE_URL"] = platform.database_url.get_secret_value()
        env.update(business_env(info, SLUG))
        token = json.loads(
            _ops(
                tmp_path,
                env,
                "tokens",
                "create",
                "--name",
                "topology",
                "--scope",
                "operate",
                "--json",
            )
        )["token"]
        port = free_port_block()
        stack.enter_context(
            _process(["serve", "--port", str(port)], tmp_path, env, tmp_path / "serve.log")
        )
        workers = {
            executor_id(name): stack.enter_context(
                _process(["worker", "--name", name], tmp_path, env, tmp_path / f"{name}.log")
            )
            for name in ("w1", "w2")
        }
        api = stack.enter_context(
            httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
        )

        def serving() -> bool:
            try:
                return api.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        def beating() -> bool:
            with engine.connect() as conn:
                seen = set(conn.execute(select(worker_heartbeats.c.worker_id)).scalars())
            return set(workers) <= seen

        _until("ops serve", serving)
        _until("both workers' heartbeats", beating)

        started = api.post("/api/v1/jobs/sync", json={"entity": "orders", "business": SLUG})
        assert started.status_code == 202, started.text
        job_url = started.json()["url"]
        workflow_id = f"job-{started.json()['job_id']}-{SLUG}"

        # Kill the worker running it once it has committed a couple of pages.
        _until("two pages committed", lambda: _pages_committed(engine) >= 2, 180)
        status = _workflow(platform, workflow_id)
        assert status is not None and status[0] == "PENDING"
        victim = status[1]
        [survivor] = [w for w in workers if w != victim]
        workers[victim].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        workers[victim].wait(timeout=30)
        committed = _pages_committed(engine)
        assert committed >= 2

        def finished() -> dict[str, Any] | None:
            job: dict[str, Any] = api.get(job_url).json()
            return job if job["status"] in ("succeeded", "failed") else None

        job = _until("the job to finish on the other worker", finished, 240)
        took_s = time.monotonic() - killed_at
        assert job["status"] == "succeeded", job
        assert _workflow(platform, workflow_id) == ("SUCCESS", survivor)

        # Taken over once, by the survivor, logged and alerted.
        with engine.connect() as conn:
            taken = conn.execute(
                select(worker_heartbeats).where(worker_heartbeats.c.worker_id == victim)
            ).one()
            alerts = conn.execute(
                select(alert_history.c.service, alert_history.c.status).where(
                    alert_history.c.business_id == "platform"
                )
            ).all()
            runs = (
                conn.execute(
                    select(sync_runs.c.status)
                    .where(sync_runs.c.business_id == SLUG, sync_runs.c.entity == "orders")
                    .order_by(sync_runs.c.id)
                )
                .scalars()
                .all()
            )
            stored = {
                r.unleashed_guid: r.status
                for r in conn.execute(
                    select(orders.c.unleashed_guid, orders.c.status).where(
                        orders.c.business_id == SLUG
                    )
                )
            }
        assert taken.taken_over_by == survivor and taken.taken_over_jobs == 1
        assert (worker_subject(victim), "degraded") in [tuple(a) for a in alerts]
        assert list(runs) == ["interrupted", "succeeded"]

        # The pages stored before the kill were not read again: every page once, but for
        # the one in flight when the worker died.
        pages = math.ceil(len(stored) / PAGE_SIZE)
        assert pages > committed
        asked = _calls(info, "/SalesOrders/{page:int}")
        assert pages <= asked <= pages + 1, (asked, pages, committed)
        # Shown with -rP: what the takeover cost on this machine.
        print(
            f"killed after {committed}/{pages} pages; Unleashed asked {asked} pages in all; "
            f"finished by the survivor {took_s:.1f} s after the kill"
        )

        # Every order one deal, never two.
        deals = hubspot_records(info, SLUG, "deals", "unleashed_order_guid")
        guids = [d["properties"].get("unleashed_order_guid") for d in deals]
        assert len(guids) == len(set(guids)), "an order became two deals"
        assert set(guids) == {g for g, status in stored.items() if status != "Deleted"}
