"""``ops jobs list|show|cancel|retry|workers``: the durable jobs in DBOS's system
database (``operations.job_list``) and the workers that run them.

These read and change the system database through a DBOS client; none runs a job, so
they work while the workers are down, from any machine that reaches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer

from masterops.cli.errors import CommandFailed
from masterops.cli.options import JsonOpt, command_context, limit_option
from masterops.cli.output import print_json, print_table

app = typer.Typer(
    help="Durable jobs (list, show, cancel, retry) and the workers that run them.",
    no_args_is_help=True,
)

T = TypeVar("T")
IdArg = Annotated[str, typer.Argument(metavar="ID", help="A job id from `ops jobs list`.")]
LIST_COLUMNS = ("workflow_id", "name", "status", "queue", "executor_id", "created_at", "ended_at")
WORKER_COLUMNS = (
    "executor_id",
    "state",
    "version",
    "last_heartbeat",
    "running_jobs",
    "host",
    "pid",
    "taken_over_by",
)


@contextmanager
def _jobs(json_output: bool) -> Iterator[tuple[Any, Any]]:
    """The command's context and a job client on its system database, closed after; a
    database nobody can reach (or no runner ever created) is a clean error."""
    from masterops.operations.jobs import JobQueue, JobsUnavailable

    with command_context(json_output) as ctx:
        queue = JobQueue(ctx.config)
        try:
            yield ctx, queue
        except JobsUnavailable as exc:
            raise CommandFailed(str(exc)) from None
        finally:
            queue.close()


def _one(json_output: bool, action: Callable[[Any], T]) -> T:
    with _jobs(json_output) as (_ctx, queue):
        return action(queue)


@app.command("list")
def list_(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only jobs in this state: enqueued, pending (running), success, error, "
            "cancelled, max_recovery_attempts_exceeded.",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Only this workflow, e.g. masterops.sync_orders."),
    ] = None,
    limit: Annotated[int, limit_option("Jobs at most.")] = 50,
    json_output: JsonOpt = False,
) -> None:
    """Durable jobs, newest first: scheduled, started on demand, recovered."""
    from masterops.operations.job_list import list_jobs

    rows = _one(json_output, lambda q: list_jobs(q, status=status, name=name, limit=limit))
    if json_output:
        print_json([r.to_dict() for r in rows])
        return
    print_table(
        [r.to_dict() for r in rows],
        LIST_COLUMNS,
        title="Jobs",
        empty="no jobs",
        optional=("queue", "executor_id", "ended_at"),
    )


@app.command("show")
def show(job_id: IdArg, json_output: JsonOpt = False) -> None:
    """One job: its arguments, steps, executor, result or error."""
    from masterops.operations.job_list import show_job

    row = _one(json_output, lambda q: show_job(q, job_id))
    found = row.to_dict(detail=True)
    if json_output:
        print_json(found)
        return
    for key, value in found.items():
        if key != "steps":
            typer.echo(f"{key}: {value}")
    print_table(found["steps"], title="steps", empty="no step recorded yet")


@app.command("cancel")
def cancel(job_id: IdArg, json_output: JsonOpt = False) -> None:
    """Cancel a job that has not ended: it stops before its next step."""
    from masterops.operations.job_list import cancel_job

    row = _one(json_output, lambda q: cancel_job(q, job_id))
    if json_output:
        print_json(row.to_dict())
        return
    typer.echo(f"job {row.workflow_id} is now {row.status}")


@app.command("retry")
def retry(job_id: IdArg, json_output: JsonOpt = False) -> None:
    """Run a failed or cancelled job again: a cancelled one resumes where it stopped; a
    failed one runs again from the start as a new job (its id is printed)."""
    from masterops.operations.job_list import retry_job

    row = _one(json_output, lambda q: retry_job(q, job_id))
    if json_output:
        print_json(row.to_dict())
        return
    if row.workflow_id == job_id:
        typer.echo(f"job {job_id} resumed: {row.status}")
    else:
        typer.echo(f"job {job_id} runs again as {row.workflow_id}: {row.status}")


@app.command("workers")
def workers(json_output: JsonOpt = False) -> None:
    """Every worker that has run: executor id, state (running, silent, stopped, taken
    over), version, last heartbeat and the jobs it is running."""
    from masterops.operations.job_list import list_workers
    from masterops.operations.jobs import JobQueue, JobsUnavailable

    with command_context(json_output) as ctx:
        queue = JobQueue(ctx.config)
        try:
            rows = list_workers(ctx.config, ctx.database(), queue)
        except JobsUnavailable:
            # No system database yet: the heartbeats still say who ran.
            rows = list_workers(ctx.config, ctx.database(), None)
        finally:
            queue.close()
    if json_output:
        print_json([r.to_dict() for r in rows])
        return
    print_table(
        [r.to_dict() for r in rows],
        WORKER_COLUMNS,
        title="Workers",
        empty="no worker has run yet: start `ops worker`",
        optional=("host", "pid", "taken_over_by"),
    )
