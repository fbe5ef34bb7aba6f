"""Every Unleashed sync, on demand or scheduled, runs in its business's partition of the
sync queue: a scheduled sync and an on-demand one of the same business run one after the
other, never side by side, and neither is refused."""

from __future__ import annotations

import time

from dbos import DBOS
from sqlalchemy import select

from masterops.config import Config
from masterops.db.engine import create_db_engine
from masterops.db.tables import sync_runs
from masterops.jobs.queues import SYNC_QUEUE, register_queues
from masterops.jobs.runtime import launched
from masterops.jobs.schedules import apply_schedules, plan_schedules
from masterops.operations.jobs import JobQueue, job_status, start_sync_job


def test_a_scheduled_and_an_on_demand_sync_of_a_business_take_turns(platform: Config) -> None:
    with launched(platform, worker_name="test", polling_interval_s=0.01):
        register_queues(platform.businesses)
        apply_schedules(plan_schedules(platform))
        jobs = JobQueue(platform)
        try:
            job = start_sync_job(jobs, "inventory", "teelixir")
            # The schedule's workflow only hands the sync to the business's partition.
            assert DBOS.trigger_schedule("sync-inventory-teelixir").get_result() is None
            deadline = time.monotonic() + 120  # a guard against a hang, not a speed check
            while (status := job_status(jobs, job.job_id)) is None or status.status not in (
                "succeeded",
                "failed",
            ):
                assert time.monotonic() < deadline, status
                time.sleep(0.1)
            assert status.status == "succeeded", status
            syncs = DBOS.list_workflows(name="masterops.sync_inventory")
            assert len(syncs) == 2
            assert {(s.queue_name, s.queue_partition_key) for s in syncs} == {
                (SYNC_QUEUE, "teelixir")
            }
            for s in syncs:
                assert DBOS.retrieve_workflow(s.workflow_id).get_result()["status"] == "succeeded"
        finally:
            jobs.close()

    engine = create_db_engine(platform.database_url.get_secret_value())
    try:
        with engine.connect() as conn:
            runs = conn.execute(
                select(sync_runs.c.status, sync_runs.c.started_at, sync_runs.c.finished_at)
                .where(sync_runs.c.business_id == "teelixir", sync_runs.c.entity == "inventory")
                .order_by(sync_runs.c.started_at)
            ).all()
    finally:
        engine.dispose()
    assert [r.status for r in runs] == ["succeeded", "succeeded"]
    first, second = runs
    assert first.finished_at <= second.started_at
