"""``ops jobs list|show|cancel|retry|workers`` against the system database that DBOS,
launched in this process, keeps; the commands read and change it through a client."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dbos import DBOS, EnqueueOptions, SetWorkflowID
from jobs_helpers import enqueue_health_round, enqueue_job, unreachable_boo_unleashed

from masterops import __version__
from masterops.config import Config, load_config
from masterops.db.engine import create_db_engine
from masterops.jobs import durable
from masterops.jobs.queues import HEALTH_QUEUE, SYNC_QUEUE, register_queues
from masterops.jobs.runtime import executor_id, launched
from masterops.operations.alerts import worker_heartbeat


def _queue_of(workflow_id: str) -> tuple[str | None, str | None]:
    """(queue, partition) of a job, as DBOS holds them."""
    status = DBOS.get_workflow_status(workflow_id)
    assert status is not None
    return status.queue_name, status.queue_partition_key


def _ended(workflow_id: str, timeout_s: float = 120) -> str:
    """The final status of a workflow this process runs (a test never hangs on one)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = DBOS.get_workflow_status(workflow_id)
        if status is not None and status.status in ("SUCCESS", "ERROR", "CANCELLED"):
            return str(status.status)
        time.sleep(0.05)
    raise AssertionError(f"{workflow_id} did not end in {timeout_s} s")


def test_list_and_show(dbos: Config, ops) -> None:  # type: ignore[no-untyped-def]
    with SetWorkflowID("health-shown"):
        DBOS.start_workflow(durable.health_round_job, "teelixir", False).get_result()

    listed = ops("jobs", "list", "--json")
    assert listed.exit_code == 0, listed.stderr
    [row] = [r for r in json.loads(listed.stdout) if r["workflow_id"] == "health-shown"]
    assert row["status"] == "SUCCESS" and row["name"] == "masterops.health_round"
    assert row["executor_id"] == executor_id("test") and row["app_version"] == __version__
    only_errors = json.loads(ops("jobs", "list", "--status", "error", "--json").stdout)
    assert only_errors == []

    shown = ops("jobs", "show", "health-shown", "--json")
    assert shown.exit_code == 0, shown.stderr
    job = json.loads(shown.stdout)
    assert job["arguments"] == ["teelixir", False]
    assert [s["name"] for s in job["steps"]] == ["masterops.health_round.run"]
    assert job["output"]["job"] == "health" and job["error"] is None
    assert "steps" in ops("jobs", "show", "health-shown").stdout

    unknown = ops("jobs", "show", "no-such-job")
    assert unknown.exit_code == 2
    assert "no job 'no-such-job'" in unknown.stderr and "Traceback" not in unknown.stderr
    bad = ops("jobs", "list", "--status", "sleeping")
    assert bad.exit_code == 2 and "unknown status 'sleeping'" in bad.stderr
    # Retrying a job that succeeded is refused, with why.
    again = ops("jobs", "retry", "health-shown")
    assert again.exit_code == 2 and "only a failed or cancelled job" in again.stderr


def test_cancel_then_retry_resumes_on_its_queue(dbos: Config, ops) -> None:  # type: ignore[no-untyped-def]
    enqueue_health_round(dbos, "health-cancelled")
    cancelled = ops("jobs", "cancel", "health-cancelled", "--json")
    assert cancelled.exit_code == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["status"] == "CANCELLED"
    twice = ops("jobs", "cancel", "health-cancelled")
    assert twice.exit_code == 2 and "already ended (CANCELLED)" in twice.stderr
    assert ops("jobs", "cancel", "no-such-job").exit_code == 2

    retried = ops("jobs", "retry", "health-cancelled", "--json")
    assert retried.exit_code == 0, retried.stderr
    job = json.loads(retried.stdout)
    assert job["workflow_id"] == "health-cancelled"
    assert job["status"] == "ENQUEUED" and job["queue"] == HEALTH_QUEUE
    register_queues(dbos.businesses)
    assert _ended("health-cancelled") == "SUCCESS"


def test_a_cancelled_sync_is_retried_in_its_business_partition(dbos: Config, ops) -> None:  # type: ignore[no-untyped-def]
    # Waiting in boo's partition (this process does not listen to the queue yet).
    enqueue_job(
        dbos,
        EnqueueOptions(
            workflow_name="masterops.sync_inventory",
            queue_name=SYNC_QUEUE,
            queue_partition_key="boo",
            workflow_id="sync-cancelled",
            app_version=__version__,
        ),
        "boo",
        False,
    )
    assert ops("jobs", "cancel", "sync-cancelled").exit_code == 0
    retried = ops("jobs", "retry", "sync-cancelled", "--json")
    assert retried.exit_code == 0, retried.stderr
    job = json.loads(retried.stdout)
    # The same job, resumed where it stopped, back in boo's partition (one sync of a
    # business at a time, across every worker), not on a queue of its own.
    assert (job["workflow_id"], job["status"]) == ("sync-cancelled", "ENQUEUED")
    assert _queue_of("sync-cancelled") == (SYNC_QUEUE, "boo")
    register_queues(dbos.businesses)
    assert _ended("sync-cancelled") == "SUCCESS"


def test_a_cancelled_sync_that_had_no_partition_is_retried_in_one(dbos: Config, ops) -> None:  # type: ignore[no-untyped-def]
    # Started outside the sync queue (as `ops worker --once` does), then cancelled while
    # waiting: DBOS resumes a job on a queue but never into a partition, so the retry is
    # a new job with the same arguments, in boo's partition.
    enqueue_job(
        dbos,
        EnqueueOptions(
            workflow_name="masterops.sync_orders",
            queue_name="sync-boo",
            workflow_id="sync-unpartitioned",
            app_version=__version__,
        ),
        "boo",
        False,
    )
    assert ops("jobs", "cancel", "sync-unpartitioned").exit_code == 0
    retried = ops("jobs", "retry", "sync-unpartitioned", "--json")
    assert retried.exit_code == 0, retried.stderr
    job = json.loads(retried.stdout)
    assert job["workflow_id"] != "sync-unpartitioned" and job["name"] == "masterops.sync_orders"
    assert _queue_of(job["workflow_id"]) == (SYNC_QUEUE, "boo")
    register_queues(dbos.businesses)
    assert _ended(job["workflow_id"]) == "SUCCESS"


def test_a_failed_job_is_retried_as_a_new_one(
    platform: Config,
    ops,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    unreachable_boo_unleashed(tmp_path, monkeypatch)
    with launched(load_config(), worker_name="test", polling_interval_s=0.01):
        _fail_and_retry(load_config(), ops)


def _fail_and_retry(dbos: Config, ops) -> None:  # type: ignore[no-untyped-def]
    with SetWorkflowID("sync-failed"):
        handle = DBOS.start_workflow(durable.inventory_sync_job, "boo", False)
    with pytest.raises(durable.SyncFailed):
        handle.get_result()
    failed = json.loads(ops("jobs", "list", "--status", "error", "--json").stdout)
    assert [r["workflow_id"] for r in failed] == ["sync-failed"]
    shown = json.loads(ops("jobs", "show", "sync-failed", "--json").stdout)
    assert shown["error"].startswith("SyncFailed: sync inventory of boo failed")
    assert "api-key-boo-secret" not in json.dumps(shown)

    retried = ops("jobs", "retry", "sync-failed", "--json")
    assert retried.exit_code == 0, retried.stderr
    fork = json.loads(retried.stdout)
    assert fork["workflow_id"] != "sync-failed" and fork["name"] == "masterops.sync_inventory"
    # In its business's partition of the sync queue: never beside another sync of boo.
    assert fork["queue"] == SYNC_QUEUE and _queue_of(fork["workflow_id"]) == (SYNC_QUEUE, "boo")
    register_queues(dbos.businesses)
    # Still failing (nothing changed): the fork ran the sync again, as a job of its own.
    assert _ended(fork["workflow_id"]) == "ERROR"


def test_workers(dbos: Config, ops) -> None:  # type: ignore[no-untyped-def]
    engine = create_db_engine(dbos.database_url.get_secret_value())
    try:
        now = datetime.now(UTC)
        worker_heartbeat(engine, "host-live", started_at=now, now=now)
        long_ago = now - timedelta(hours=1)
        worker_heartbeat(engine, "host-silent", started_at=long_ago, now=long_ago)
        worker_heartbeat(engine, "host-stopped", started_at=now, now=now, state="stopped")
    finally:
        engine.dispose()
    result = ops("jobs", "workers", "--json")
    assert result.exit_code == 0, result.stderr
    states = {w["executor_id"]: (w["state"], w["version"]) for w in json.loads(result.stdout)}
    assert states == {
        "host-live": ("running", __version__),
        "host-silent": ("silent", __version__),
        "host-stopped": ("stopped", __version__),
    }
    assert "host-silent" in ops("jobs", "workers").stdout


def test_no_job_database_yet_is_a_clear_error(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("jobs", "list")
    # On SQLite no runner has created the system database; on PostgreSQL the schema
    # does not exist yet: either way an error that says what to do, no traceback.
    assert "Traceback" not in result.stderr
    if result.exit_code != 0:
        assert "ops worker" in result.stderr or "cannot be reached" in result.stderr


def test_the_retry_queues_are_the_registered_ones() -> None:
    from masterops.jobs import queues
    from masterops.operations import job_list

    assert job_list.HEALTH_QUEUE == queues.HEALTH_QUEUE
    assert job_list.WEBHOOK_QUEUE == queues.WEBHOOK_QUEUE
