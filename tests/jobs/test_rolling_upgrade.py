"""A rolling upgrade on one system database: a worker of the new release leaves the work
enqueued under the old release alone, and a worker of the old release finishes it."""

from __future__ import annotations

import time
from typing import Any

from dbos import DBOS, DBOSClient, EnqueueOptions, WorkflowHandle

from masterops.config import Config
from masterops.jobs.queues import SYNC_QUEUE, register_queues
from masterops.jobs.runtime import executor_id, launched
from masterops.operations.jobs import APP_NAME, system_database

OLD, NEW = "1.0.0", "1.1.0"
HEALTH = "masterops.health_round"


def _client(config: Config) -> DBOSClient:
    url, schema = system_database(config)
    return DBOSClient(system_database_url=url, dbos_system_schema=schema, application_name=APP_NAME)


def _enqueue(client: DBOSClient, workflow_id: str, version: str) -> None:
    """A health round of teelixir in its partition of the sync queue, as an API process
    of ``version`` enqueues its jobs (a short job on the queue polled most often)."""
    options = EnqueueOptions(
        workflow_name=HEALTH,
        queue_name=SYNC_QUEUE,
        queue_partition_key="teelixir",
        workflow_id=workflow_id,
        app_version=version,
    )
    client.enqueue(options, "teelixir", False)


def test_a_new_worker_leaves_old_work_to_an_old_worker(platform: Config) -> None:
    client: DBOSClient | None = None
    try:
        with launched(
            platform, worker_name="new", polling_interval_s=0.01, application_version=NEW
        ):
            register_queues(platform.businesses)
            client = _client(platform)  # after the launch has created the system database
            _enqueue(client, "old-1", OLD)
            _enqueue(client, "old-2", OLD)
            _enqueue(client, "new-1", NEW)
            assert DBOS.retrieve_workflow("new-1").get_result()["job"] == "health"
            time.sleep(1.0)  # twenty polls of the sync queue: the old work is still left
            left = {s.workflow_id: s for s in DBOS.list_workflows(workflow_id_prefix="old-")}
            assert {w: s.status for w, s in left.items()} == {
                "old-1": "ENQUEUED",
                "old-2": "ENQUEUED",
            }
            assert DBOS.retrieve_workflow("new-1").get_status().executor_id == executor_id("new")

        # The old release's worker, still running during the upgrade, drains its work.
        with launched(
            platform, worker_name="old", polling_interval_s=0.01, application_version=OLD
        ):
            for workflow_id in ("old-1", "old-2"):
                handle: WorkflowHandle[dict[str, Any]] = DBOS.retrieve_workflow(workflow_id)
                assert handle.get_result()["job"] == "health"
                status = handle.get_status()
                assert (status.executor_id, status.app_version) == (executor_id("old"), OLD)
    finally:
        if client is not None:
            client.destroy()
