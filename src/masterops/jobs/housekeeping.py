"""Housekeeping, a scheduled job: the retention policy of ``[retention]`` applied.

Two steps, each safe to repeat:

- the log tables lose their rows older than ``logs_days`` (what ``ops db prune`` deletes:
  the webhook inbox only its failed events, never the event log itself);
- DBOS's system tables lose the jobs that finished more than ``job_history_days`` ago
  (status, inputs, outputs, steps). Pending, enqueued and running jobs are never touched,
  so nothing a worker might still recover goes.

It runs at ``[retention] schedule`` in ``[schedules] timezone`` (03:30 by default), on the
health queue, so one run at a time across every worker; ``ops worker --once housekeeping``
runs it now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dbos import DBOS

from masterops.jobs.durable import JobResult, _announced, current_step_context

#: DBOS's statuses of a job that is over (the ones whose history may go).
FINISHED_STATUSES = ["SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"]
#: Jobs deleted per call: a long history goes in bounded transactions.
DELETE_BATCH = 500


@DBOS.step(name="masterops.housekeeping.logs")
@_announced(lambda now_iso: ("housekeeping logs", None))
def prune_logs_step(now_iso: str) -> JobResult:
    """Delete log rows older than the retention; returns the rows deleted per table."""
    from masterops.db.queries import prune

    ctx = current_step_context()
    days = ctx.config.retention.logs_days
    cutoff = datetime.fromisoformat(now_iso) - timedelta(days=days)
    with ctx.database().begin() as conn:
        deleted = prune(conn, cutoff)
    return {
        "job": "housekeeping",
        "status": "succeeded",
        "logs_older_than": cutoff.isoformat(),
        "deleted": deleted,
    }


@DBOS.step(name="masterops.housekeeping.job_history")
@_announced(lambda now_iso: ("housekeeping job history", None))
def prune_job_history_step(now_iso: str) -> JobResult:
    """Delete the system database's record of jobs finished before the retention."""
    ctx = current_step_context()
    days = ctx.config.retention.job_history_days
    cutoff = (datetime.fromisoformat(now_iso) - timedelta(days=days)).isoformat()
    deleted = 0
    while True:
        finished = DBOS.list_workflows(
            status=FINISHED_STATUSES,
            completed_before=cutoff,
            limit=DELETE_BATCH,
            load_input=False,
            load_output=False,
        )
        if not finished:
            break
        DBOS.delete_workflows([w.workflow_id for w in finished])
        deleted += len(finished)
        if len(finished) < DELETE_BATCH:
            break
    return {
        "job": "housekeeping",
        "status": "succeeded",
        "jobs_finished_before": cutoff,
        "deleted_jobs": deleted,
    }


@DBOS.workflow(name="masterops.housekeeping")
def housekeeping_job(now_iso: str) -> JobResult:
    """Both retentions, measured from ``now_iso`` (an argument, so a recovered run deletes
    what the first attempt meant to)."""
    logs = prune_logs_step(now_iso)
    history = prune_job_history_step(now_iso)
    return {
        "job": "housekeeping",
        "status": "succeeded",
        "deleted": logs["deleted"],
        "deleted_jobs": history["deleted_jobs"],
    }


@DBOS.workflow(name="masterops.housekeeping.scheduled")
def scheduled_housekeeping(scheduled_at: datetime, context: Any) -> None:
    housekeeping_job(scheduled_at.isoformat())
