"""The durable jobs and the workers, for ``ops jobs``: what DBOS's system tables hold
(every workflow: scheduled, on demand, recovered), read and acted on through a
``DBOSClient`` (``jobs.JobQueue``), and the ``worker_heartbeats`` rows.

- list / show: a workflow's name, state, queue, executor, version, times, and (show) its
  steps and result or error.
- cancel: a job enqueued or running stops at its next step (DBOS's cancellation); a
  finished one cannot be cancelled.
- retry: a cancelled job (or one that exhausted its recoveries) resumes where it stopped,
  under its own id; a failed one runs again from its first step as a new workflow (a
  DBOS fork), on its own queue: a business's sync in its partition of the sync queue, so
  it still never overlaps a sync of the same business. (A cancelled sync that was in no
  partition is forked into one too: DBOS resumes onto a queue, never into a partition.)
- workers: each worker's executor id, host, pid, version, state (running, silent,
  stopped, taken over), last heartbeat and how many jobs it is running.

Nothing here imports ``dbos`` at import time: the client comes from ``JobQueue``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from masterops import __version__
from masterops.config import Config
from masterops.db.tables import worker_heartbeats
from masterops.operations.errors import UsageError
from masterops.operations.jobs import (
    APP_NAME,
    N8N_QUEUE,
    SYNC_QUEUE,
    JobQueue,
    JobsUnavailable,
    _unavailable,
)

if TYPE_CHECKING:
    from dbos import WorkflowStatus
    from sqlalchemy import Engine

#: DBOS's statuses, as ``--status`` accepts them (lower case).
STATUSES = (
    "enqueued",
    "pending",
    "success",
    "error",
    "cancelled",
    "max_recovery_attempts_exceeded",
)
#: What ``retry`` resumes under the same id; ERROR (and a SUCCESS whose sync failed) is forked.
_RESUMABLE = ("CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")
_INTERNAL_QUEUE = "_dbos_internal_queue"
# The queues of jobs/queues.py (a test holds them equal): DBOS forgets a cancelled job's
# queue, and a retried job must go back to its own, so that it never overlaps another.
HEALTH_QUEUE = "health"
WEBHOOK_QUEUE = "webhooks"
_QUEUE_OF: dict[str, str] = {
    "masterops.health_round": HEALTH_QUEUE,
    "masterops.sync_executions": N8N_QUEUE,
    "masterops.webhooks": WEBHOOK_QUEUE,
}
_PER_BUSINESS = ("masterops.sync_inventory", "masterops.sync_customers", "masterops.sync_orders")


class JobNotFound(UsageError):
    """No durable job has this id."""


@dataclass(frozen=True, slots=True)
class JobRow:
    """One durable job (a DBOS workflow)."""

    workflow_id: str
    name: str
    status: str
    queue: str | None
    executor_id: str | None
    app_version: str | None
    created_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    arguments: list[Any] = field(default_factory=list)
    error: str | None = None
    output: Any = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, *, detail: bool = False) -> dict[str, Any]:
        base: dict[str, Any] = {
            "workflow_id": self.workflow_id,
            "name": self.name,
            "status": self.status,
            "queue": self.queue,
            "executor_id": self.executor_id,
            "app_version": self.app_version,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }
        if detail:
            base.update(
                arguments=self.arguments, error=self.error, output=self.output, steps=self.steps
            )
        return base


def _instant(epoch_ms: int | None) -> datetime | None:
    return None if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000, UTC)


def _row(status: WorkflowStatus, *, detail: bool = False) -> JobRow:
    inputs = status.input or {"args": (), "kwargs": {}}
    return JobRow(
        workflow_id=status.workflow_id,
        name=status.name,
        status=str(status.status),
        queue=status.queue_name,
        executor_id=status.executor_id,
        app_version=status.app_version,
        created_at=_instant(status.created_at),
        started_at=_instant(status.dequeued_at),
        ended_at=_instant(status.completed_at),
        arguments=[_plain(a) for a in inputs.get("args", ())] if detail else [],
        error=f"{type(status.error).__name__}: {status.error}" if status.error else None,
        output=_plain(status.output) if detail else None,
    )


def _plain(value: Any) -> Any:
    """A value as JSON can carry it (arguments are strings, numbers, dicts already)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return repr(value)


def _call(action: Any) -> Any:
    try:
        return action()
    except (JobsUnavailable, UsageError):
        raise
    except Exception as exc:
        if type(exc).__name__ == "DBOSNonExistentWorkflowError":
            raise
        raise _unavailable(exc) from None


def list_jobs(
    jobs: JobQueue, *, status: str | None = None, name: str | None = None, limit: int = 50
) -> list[JobRow]:
    """The newest durable jobs first, optionally of one status or workflow name."""
    if status is not None and status.lower() not in STATUSES:
        raise UsageError(f"unknown status {status!r}; known: {', '.join(STATUSES)}")
    filters: dict[str, Any] = {"application_name": APP_NAME, "sort_desc": True, "limit": limit}
    if status is not None:
        filters["status"] = status.upper()
    if name is not None:
        filters["name"] = name
    statuses = _call(
        lambda: jobs.client().list_workflows(load_input=False, load_output=False, **filters)
    )
    return [_row(s) for s in statuses]


def _status(jobs: JobQueue, workflow_id: str) -> WorkflowStatus:
    found = _call(
        lambda: jobs.client().list_workflows(workflow_ids=[workflow_id], application_name=APP_NAME)
    )
    if not found:
        raise JobNotFound(f"no job {workflow_id!r}; see `ops jobs list`")
    status: WorkflowStatus = found[0]
    return status


def show_job(jobs: JobQueue, workflow_id: str) -> JobRow:
    """One job with its arguments, steps, result or error. Raises ``JobNotFound``."""
    status = _status(jobs, workflow_id)
    steps = _call(lambda: jobs.client().list_workflow_steps(workflow_id, load_output=False))
    row = _row(status, detail=True)
    row.steps.extend(
        {
            "step": s["function_id"],
            "name": s["function_name"],
            "started_at": _instant(s["started_at_epoch_ms"]),
            "ended_at": _instant(s["completed_at_epoch_ms"]),
            "error": str(s["error"]) if s["error"] is not None else None,
        }
        for s in steps
    )
    return row


def cancel_job(jobs: JobQueue, workflow_id: str) -> JobRow:
    """Cancel a job that has not finished. Raises ``JobNotFound``, or ``UsageError`` for
    a finished one."""
    status = _status(jobs, workflow_id)
    if str(status.status) in ("SUCCESS", "ERROR", "CANCELLED"):
        raise UsageError(
            f"job {workflow_id} has already ended ({status.status}): nothing to cancel"
        )
    _call(lambda: jobs.client().cancel_workflow(workflow_id))
    return _row(_status(jobs, workflow_id))


def _business_queue(business: str) -> str:
    """The queue a business's scheduled syncs start on (``jobs/queues.sync_queue``)."""
    return f"sync-{business}"


def _argument(status: WorkflowStatus, index: int, name: str) -> Any:
    """A job's argument, given by position or by name (None: not given)."""
    inputs = status.input or {"args": (), "kwargs": {}}
    args = tuple(inputs.get("args", ()))
    return args[index] if len(args) > index else inputs.get("kwargs", {}).get(name)


def home_queue(status: WorkflowStatus) -> tuple[str | None, str | None]:
    """Where a job runs again: (queue, partition key). A business's sync goes to its
    partition of the sync queue, so that it never runs beside another sync of the
    business, whichever worker runs either; a scheduled sync's start to its business's
    queue; anything else to the queue its workflow always goes to (None: DBOS's
    internal queue)."""
    if status.name in _PER_BUSINESS:
        business = _argument(status, 0, "business_id")
        return (SYNC_QUEUE, str(business)) if business else (None, None)
    if status.name.removesuffix(".scheduled") in _PER_BUSINESS:
        # (scheduled_at, context): the schedule's context names the business.
        context = _argument(status, 1, "context")
        business = context.get("business_id") if isinstance(context, dict) else None
        return (_business_queue(str(business)) if business else None), None
    if status.queue_name not in (None, _INTERNAL_QUEUE):
        return status.queue_name, None
    return _QUEUE_OF.get(status.name.removesuffix(".scheduled")), None


def retry_job(jobs: JobQueue, workflow_id: str) -> JobRow:
    """Run a job that did not succeed again (see the module); returns the job that runs:
    the same one resumed, or the new fork. Raises ``JobNotFound``, or ``UsageError`` for
    a job still running or one that succeeded."""
    status = _status(jobs, workflow_id)
    state = str(status.status)
    queue, partition = home_queue(status)
    failed_result = isinstance(status.output, dict) and status.output.get("status") in (
        "failed",
        "interrupted",
    )
    # DBOS resumes a job onto a queue, never into a partition: it keeps the partition
    # key a cancelled job had, so a job enqueued in its partition resumes there, under
    # its own id. One that had none (started by ``ops worker --once``) runs again as a
    # new job with the same arguments, in the partition: a sync resumes from its last
    # committed page and watermark, whichever job runs it.
    resumable = state in _RESUMABLE and partition == status.queue_partition_key
    if resumable:
        _call(lambda: jobs.client().resume_workflow(workflow_id, queue_name=queue))
        return _row(_status(jobs, workflow_id))
    if state in _RESUMABLE or state == "ERROR" or (state == "SUCCESS" and failed_result):
        handle = _call(
            lambda: jobs.client().fork_workflow(
                workflow_id,
                1,
                application_version=__version__,
                queue_name=queue,
                queue_partition_key=partition,
            )
        )
        return _row(_status(jobs, handle.get_workflow_id()))
    raise UsageError(f"job {workflow_id} is {state}: only a failed or cancelled job can be retried")


@dataclass(frozen=True, slots=True)
class WorkerRow:
    """A worker as its heartbeat and the system database see it."""

    executor_id: str
    host: str
    pid: int
    version: str | None
    #: running, silent (no heartbeat for 3 beats), stopped, or taken over.
    state: str
    started_at: datetime
    last_heartbeat: datetime
    running_jobs: int
    taken_over_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "executor_id": self.executor_id,
            "host": self.host,
            "pid": self.pid,
            "version": self.version,
            "state": self.state,
            "started_at": self.started_at,
            "last_heartbeat": self.last_heartbeat,
            "running_jobs": self.running_jobs,
            "taken_over_by": self.taken_over_by,
        }


def list_workers(
    config: Config, engine: Engine, jobs: JobQueue | None, *, now: datetime | None = None
) -> list[WorkerRow]:
    """Every worker that ever beat, the most recently seen first. ``jobs`` (None: not
    asked) counts each one's running jobs in the system database."""
    moment = now or datetime.now(UTC)
    silent_after = timedelta(seconds=3 * config.workers.heartbeat_s)
    t = worker_heartbeats
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.seen_at.desc())).all()
    running: dict[str, int] = {}
    if jobs is not None and rows:
        pending = _call(
            lambda: jobs.client().list_workflows(
                status="PENDING",
                executor_id=[r.worker_id for r in rows],
                application_name=APP_NAME,
                load_input=False,
                load_output=False,
            )
        )
        for s in pending:
            running[str(s.executor_id)] = running.get(str(s.executor_id), 0) + 1
    found = []
    for r in rows:
        if r.taken_over_at is not None and r.taken_over_at >= r.seen_at:
            state = "taken over"
        elif r.state == "stopped":
            state = "stopped"
        elif moment - r.seen_at > silent_after:
            state = "silent"
        else:
            state = "running"
        found.append(
            WorkerRow(
                executor_id=r.worker_id,
                host=r.host,
                pid=r.pid,
                version=r.version,
                state=state,
                started_at=r.started_at,
                last_heartbeat=r.seen_at,
                running_jobs=running.get(r.worker_id, 0),
                taken_over_by=r.taken_over_by if state == "taken over" else None,
            )
        )
    return found
