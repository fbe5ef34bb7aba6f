"""``kill -9`` at random points of ``ops sync orders`` and ``ops worker --once orders``,
as real processes against ``ops sandbox`` on loopback: the rerun converges, no two runs
of one sync overlap, and every effect in HubSpot happened exactly once."""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from loopback import business_env, hubspot_records, loopback_sandbox
from sqlalchemy import Engine, select, text

from masterops.config import Config
from masterops.db.engine import create_db_engine
from masterops.db.tables import order_lines, orders, sync_runs
from masterops.jobs.runtime import system_database

SLUG = "teelixir"
# Slow answers stretch a run over a couple of seconds, so that kills land inside it.
FAULTS = "hubspot:rate_slow=1,slow_seconds=0.04;unleashed:rate_slow=1,slow_seconds=0.04"
#: Printed on failure: the points at which the processes were killed.
SEED = int(os.environ.get("MASTEROPS_KILL_SEED", str(random.randrange(1 << 30))))


def _ops(cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "masterops", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _kill_mid_run(
    proc: subprocess.Popen[str], engine: Engine, after_run: int, seconds: float
) -> None:
    """SIGKILL ``proc`` ``seconds`` after its orders run began (a run newer than
    ``after_run`` is "running"), or at once if it ended first."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if any(r.id > after_run and r.status == "running" for r in _runs(engine)):
            break
        time.sleep(0.05)
    try:
        proc.wait(timeout=seconds)  # finished before the kill: a valid point too
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)


def _unfinished_workflows(config: Config) -> list[tuple[str, str]]:
    """(name, status) of every DBOS workflow not ended well: pending, queued or failed."""
    url, schema = system_database(config)
    system = create_db_engine(url)
    table = "workflow_status" if url.startswith("sqlite") else f'"{schema}".workflow_status'
    try:
        with system.connect() as conn:
            rows = conn.execute(
                text(f"SELECT name, status FROM {table} WHERE status <> 'SUCCESS'")
            ).all()
    finally:
        system.dispose()
    return [(str(r[0]), str(r[1])) for r in rows]


def _runs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(sync_runs)
                .where(sync_runs.c.business_id == SLUG, sync_runs.c.entity == "orders")
                .order_by(sync_runs.c.id)
            )
        )


def _assert_no_overlap(runs: list[Any]) -> None:
    """Each run ended (or was found dead and closed) before the next one began."""
    for earlier, later in itertools.pairwise(runs):
        assert earlier.finished_at is not None, f"run {earlier.id} never closed"
        assert earlier.finished_at <= later.started_at, (earlier.id, later.id)
    assert all(r.status != "running" for r in runs)


def _assert_exactly_once(info: dict[str, Any], engine: Engine) -> None:
    with engine.connect() as conn:
        stored = {
            r.unleashed_guid: r.status
            for r in conn.execute(
                select(orders.c.unleashed_guid, orders.c.status).where(orders.c.business_id == SLUG)
            )
        }
        lines = conn.execute(
            select(order_lines.c.order_guid).where(order_lines.c.business_id == SLUG)
        ).all()
    assert stored and lines
    deals = hubspot_records(info, SLUG, "deals", "unleashed_order_guid")
    guids = [d["properties"].get("unleashed_order_guid") for d in deals]
    assert len(guids) == len(set(guids)), "an order became two deals"
    assert set(guids) == {g for g, status in stored.items() if status != "Deleted"}
    items = hubspot_records(info, SLUG, "line_items", "unleashed_line_guid")
    line_guids = [i["properties"].get("unleashed_line_guid") for i in items]
    assert len(line_guids) == len(set(line_guids)), "a line became two line items"


def _environment(info: dict[str, Any]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
    env["MASTEROPS_DATABASE_URL"] = os.environ["MASTEROPS_DATABASE_URL"]
    return {**env, **business_env(info, SLUG)}


@pytest.mark.parametrize("command", ["sync", "worker"])
def test_kill_nine_then_rerun_converges(platform: Config, tmp_path: Path, command: str) -> None:
    args = (
        ("sync", "orders", "--business", SLUG)
        if command == "sync"
        else ("worker", "--once", "orders", "--business", SLUG, "--name", "w1")
    )
    chance = random.Random(SEED)
    engine = create_db_engine(platform.database_url.get_secret_value())
    try:
        with loopback_sandbox(tmp_path, faults=FAULTS) as info:
            env = _environment(info)
            for _ in range(2):
                # The worker spends its first second importing and launching DBOS.
                delay = chance.uniform(0.0, 1.5)
                newest = max((r.id for r in _runs(engine)), default=0)
                _kill_mid_run(_ops(tmp_path, env, *args), engine, newest, delay)
                before = len(_runs(engine))
                code, out, err = _finish(_ops(tmp_path, env, *args))
                assert code == 0, f"seed {SEED}, killed after {delay:.2f} s: {out}\n{err}"
                assert "Traceback" not in err and "DBOSException" not in err, err
                runs = _runs(engine)
                # The rerun ran the sync once: it resumed the killed job or started one,
                # never both.
                assert len(runs) - before == 1, f"seed {SEED}: {runs[before:]}"
                assert runs[-1].status == "succeeded"
                _assert_no_overlap(runs)
            # Converged: one more run finds nothing left to do and nothing left pending.
            code, out, err = _finish(_ops(tmp_path, env, *args))
            assert code == 0, err
            runs = _runs(engine)
            assert runs[-1].status == "succeeded" and runs[-1].written == 0
            _assert_no_overlap(runs)
            _assert_exactly_once(info, engine)
            if command == "worker":
                # The resumed job finished: nothing is left pending or failed for the next start.
                assert _unfinished_workflows(platform) == []
    finally:
        engine.dispose()
