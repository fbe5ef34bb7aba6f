"""DBOS on this platform: the health job stores its results, a workflow id starts once,
schedules and queues land in the system database, and `ops` does not import DBOS."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dbos import DBOS, SetWorkflowID
from jobs_helpers import unreachable_boo_unleashed
from sqlalchemy import func, select

from masterops import __version__
from masterops.config import Config, load_config
from masterops.db.engine import create_db_engine
from masterops.db.tables import health_checks
from masterops.jobs import durable
from masterops.jobs.queues import (
    HEALTH_QUEUE,
    N8N_QUEUE,
    SCHEDULE_POLLING_S,
    SYNC_POLLING_S,
    SYNC_QUEUE,
    queue_names,
    register_queues,
    sync_queue,
)
from masterops.jobs.runtime import dbos_config, executor_id, launched, system_database
from masterops.jobs.schedules import apply_schedules, plan_schedules


def _stored_checks(config: Config) -> int:
    engine = create_db_engine(config.database_url.get_secret_value())
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(health_checks)).scalar_one())
    finally:
        engine.dispose()


def test_health_round_job_stores_the_round(dbos: Config) -> None:
    result = DBOS.start_workflow(durable.health_round_job).get_result()
    # The platform database and 3 services of each of the 4 sandbox businesses.
    assert result["job"] == "health"
    assert result["checked"] == 13
    assert result["status"] in ("healthy", "degraded", "down")
    assert result["exit_code"] == {"healthy": 0, "degraded": 1, "down": 2}[result["status"]]
    assert _stored_checks(dbos) == 13


def test_a_workflow_id_starts_once(dbos: Config) -> None:
    with SetWorkflowID("health-once-test"):
        first = DBOS.start_workflow(durable.health_round_job, "teelixir", False)
    with SetWorkflowID("health-once-test"):
        second = DBOS.start_workflow(durable.health_round_job, "teelixir", False)
    assert first.get_result() == second.get_result()
    # One round of teelixir: the platform database and its 3 services, stored once.
    assert _stored_checks(dbos) == 4
    steps = DBOS.list_workflow_steps("health-once-test")
    assert [s["function_name"] for s in steps] == ["masterops.health_round.run"]


def test_a_scheduled_health_round_runs_on_its_queue(dbos: Config) -> None:
    register_queues(dbos.businesses)
    apply_schedules(plan_schedules(dbos))
    handle = DBOS.trigger_schedule("health")
    assert handle.get_result() is None
    assert handle.get_status().queue_name == HEALTH_QUEUE
    assert _stored_checks(dbos) == 13


def test_schedules_and_queues_are_applied_and_pruned(dbos: Config, tmp_path: Path) -> None:
    assert register_queues(dbos.businesses) == queue_names(dbos.businesses)
    # The syncs' queue is polled often (a business's next job waits for a poll); the
    # queues where only the scheduler starts a business's syncs, seldom: each poll of
    # each queue costs every worker transactions even with nothing to do.
    polling = {}
    for name in queue_names(dbos.businesses):
        queue = DBOS.retrieve_queue(name)
        assert queue is not None
        polling[name] = queue.polling_interval_sec
    assert polling[SYNC_QUEUE] == SYNC_POLLING_S
    assert {polling[sync_queue(b)] for b in dbos.businesses} == {SCHEDULE_POLLING_S}
    apply_schedules(plan_schedules(dbos))
    stored = {s["schedule_name"]: s for s in DBOS.list_schedules()}
    assert set(stored) == {s.name for s in plan_schedules(dbos)}
    assert stored["sync-inventory-boo"]["context"] == {"business_id": "boo"}
    assert stored["sync-executions"]["queue_name"] == N8N_QUEUE

    # A business removed from the configuration loses its schedule.
    (tmp_path / "masterops.toml").write_text('[businesses.boo]\nname = "Buy Organics Online"\n')
    fewer = plan_schedules(load_config())
    deleted = apply_schedules(fewer)
    assert sorted(deleted) == sorted(
        f"sync-{job}-{b}"
        for job in ("inventory", "customers", "orders")
        for b in ("elevate", "rhf", "teelixir")
    )
    assert {s["schedule_name"] for s in DBOS.list_schedules()} == {s.name for s in fewer}


def test_dbos_configuration(platform: Config) -> None:
    settings = dbos_config(platform, worker_name="w1")
    assert settings["application_version"] == __version__
    assert settings["executor_id"] == executor_id("w1") != executor_id("w2")
    url, schema = system_database(platform)
    assert settings["system_database_url"] == url
    if url.startswith("sqlite"):
        assert url == f"sqlite:///{platform.home / 'dbos.sqlite'}"
        assert schema == "dbos"
    else:  # the platform's PostgreSQL, beside the test's own schema
        assert url == platform.database_url.get_secret_value()
        assert schema.startswith("t_") and schema.endswith("_dbos")
    with pytest.raises(ValueError):
        executor_id(" ")


def test_importing_the_cli_does_not_import_dbos() -> None:
    code = "import sys, masterops.cli.main; print('dbos' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_a_sync_ended_by_an_error_ends_its_workflow_in_error(
    platform: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable_boo_unleashed(tmp_path, monkeypatch)
    with launched(load_config(), worker_name="test", polling_interval_s=0.01):
        handle = DBOS.start_workflow(durable.inventory_sync_job, "boo", False)
        with pytest.raises(durable.SyncFailed, match="sync inventory of boo failed"):
            handle.get_result()
        assert handle.get_status().status == "ERROR"
