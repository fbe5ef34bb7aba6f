"""``ops worker``: run the scheduled and queued jobs until stopped, or one job now.

Any number of workers may run, on any number of machines, when the platform database is
PostgreSQL (DBOS keeps its workflows there); on the embedded SQLite default, one. Each
worker needs its own ``--name`` on its machine: the name is its identity in DBOS, under
which it resumes its unfinished work after a crash or restart.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from masterops.cli.errors import CommandFailed, UsageError
from masterops.cli.options import BusinessOpt, JsonOpt, command_context
from masterops.jobs.schedules import JOB_NAMES
from masterops.operations.businesses import check_business

# DBOS (half a second to import) and the job modules load only when the worker runs.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.config import Config
    from masterops.jobs.schedules import JobSchedule
    from masterops.operations.context import AppContext

ONCE_JOBS = JOB_NAMES
PER_BUSINESS = ("health", "inventory", "customers", "orders")
FAILED_RUN_STATUSES = ("failed", "interrupted")


def worker(
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="This worker's name, unique on this machine: with the hostname it is the "
            "identity under which the worker resumes its unfinished jobs after a restart. "
            "Default: 'worker', or 'once' with --once.",
        ),
    ] = None,
    once: Annotated[
        str | None,
        typer.Option(
            "--once",
            help=f"Run this job durably now and exit ({', '.join(ONCE_JOBS)}); "
            "health exits 0/1/2 like `ops health`, syncs 1 if one failed.",
        ),
    ] = None,
    run_now: Annotated[
        bool,
        typer.Option(
            "--run-now",
            help="Fire every schedule once at start, then keep to the schedule.",
        ),
    ] = False,
    business: BusinessOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Run scheduled and queued jobs (health rounds, syncs) until Ctrl-C, or one with --once."""
    if once is not None and once not in ONCE_JOBS:
        raise UsageError(f"--once must be one of {', '.join(ONCE_JOBS)}, got {once!r}")
    if business is not None and once not in PER_BUSINESS:
        raise UsageError(f"--business goes with --once {', --once '.join(PER_BUSINESS)}")
    if run_now and once is not None:
        raise UsageError("--run-now goes with the long-running worker, not --once")
    worker_name = (name if name is not None else "once" if once else "worker").strip()
    if not worker_name:
        raise UsageError("--name must not be empty")
    from masterops.db.actor import set_process_actor

    set_process_actor(f"worker:{worker_name}")  # the audit trail's "who" of every job
    with command_context(json_output) as ctx:
        config = ctx.config
        check_business(config, business)
        engine = ctx.database()  # a database down or behind fails here, before DBOS starts
        if once is None:
            _serve(ctx, engine, worker_name, run_now=run_now, json_output=json_output)
            return
        results = _run_once(config, worker_name, once, business)
    code = _report_once(once, results, json_output=json_output)
    raise typer.Exit(code)


# -- the long-running worker -------------------------------------------------------------


def _serve(
    ctx: AppContext, engine: Engine, worker_name: str, *, run_now: bool, json_output: bool
) -> None:
    from masterops.jobs.liveness import TICK_S, Liveness
    from masterops.jobs.queues import register_queues
    from masterops.jobs.runtime import executor_id, launched
    from masterops.jobs.schedules import apply_schedules, plan_schedules

    config = ctx.config
    stop = threading.Event()
    liveness = Liveness(
        config,
        engine,
        ctx.hub,
        executor_id(worker_name),
        say=lambda text: _say(text, json_output=json_output),
    )

    with _stop_on_sigterm(stop), launched(config, worker_name=worker_name):
        register_queues(config.businesses)
        schedules = plan_schedules(config)
        deleted = apply_schedules(schedules)
        _announce(executor_id(worker_name), schedules, deleted, json_output=json_output)
        if run_now:
            _fire_now(schedules)
            _say(f"fired {len(schedules)} schedule(s) now", json_output=json_output)
        try:
            # Jobs run on DBOS's threads; this one says the worker is alive (the "worker
            # not seen" alert) and waits to be told to stop.
            liveness.tick()
            while not stop.wait(TICK_S):
                liveness.tick()
        except KeyboardInterrupt:
            pass
    liveness.stopped()
    # Jobs cut short stay pending and resume when this worker (same name) starts again.
    _say("worker stopped", json_output=json_output)


def _fire_now(schedules: list[JobSchedule]) -> None:
    """Start each schedule's job now, on the schedule's own queue (so it still never
    overlaps a run of the same queue), as if its time had come."""
    from datetime import UTC, datetime

    from dbos import DBOS

    from masterops.jobs.schedules import scheduled_workflow

    now = datetime.now(UTC)
    for schedule in schedules:
        workflow = scheduled_workflow(schedule.job)
        if schedule.queue is None:
            DBOS.start_workflow(workflow, now, schedule.context)
        else:
            DBOS.enqueue_workflow(schedule.queue, workflow, now, schedule.context)


@contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """``docker stop`` and systemd send SIGTERM: stop as on Ctrl-C, between jobs' steps
    rather than killed in the middle of one."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _announce(
    executor: str, schedules: list[JobSchedule], deleted: list[str], *, json_output: bool
) -> None:
    from masterops import __version__
    from masterops.cli.output import print_json, print_table

    rows = [
        {"schedule": s.name, "every": f"{s.period_s} s", "cron": s.cron, "queue": s.queue}
        for s in schedules
    ]
    if json_output:
        print_json(
            {
                "executor_id": executor,
                "version": __version__,
                "schedules": rows,
                "deleted_schedules": deleted,
            }
        )
        return
    print_table(rows, ["schedule", "every", "cron", "queue"], title="schedules")
    if deleted:
        _say(f"schedules no longer configured, deleted: {', '.join(deleted)}", json_output=False)
    _say(
        f"worker {executor} (masterops {__version__}) is running scheduled and queued jobs; "
        "Ctrl-C to stop",
        json_output=False,
    )


def _say(text: str, *, json_output: bool) -> None:
    if json_output:
        return
    from rich.markup import escape

    from masterops.cli.output import console

    console().print(escape(text), highlight=False)


# -- one job now ---------------------------------------------------------------------------


def _run_once(
    config: Config, worker_name: str, job: str, business: str | None
) -> list[dict[str, Any]]:
    """Start the job's workflow(s) in this process and wait for them. They are durable
    like any other: if this process dies, the next ``--once`` with the same name resumes
    them. This process takes no queued work (``queues=()``): it would abandon it."""
    from dbos import DBOS

    from masterops.jobs import durable
    from masterops.jobs.resumed import resumed_jobs, workflow_name
    from masterops.jobs.runtime import executor_id, launched
    from masterops.observability.redaction import Redactor

    redactor = Redactor(config.secrets())
    with launched(config, worker_name=worker_name, queues=()):
        # What a killed run of this worker left unfinished, DBOS resumes now: the same
        # job is adopted rather than started again beside it, and every resumed one is
        # waited for, so that nothing is left half-done when this process exits.
        resumed = resumed_jobs(executor_id(worker_name))
        adopted: set[str] = set()

        def start(workflow: Any, *args: Any) -> Any:
            name = workflow_name(workflow)
            for job_left in resumed:
                if job_left.workflow_id not in adopted and job_left.runs(name, *args[:1]):
                    adopted.add(job_left.workflow_id)
                    return DBOS.retrieve_workflow(job_left.workflow_id)
            return DBOS.start_workflow(workflow, *args)

        if job == "health":
            handles = [start(durable.health_round_job, business, True)]
        elif job == "executions":
            handles = [start(durable.executions_sync_job, False)]
        elif job == "webhooks":
            handles = [start(durable.webhooks_job)]
        elif job == "housekeeping":
            from datetime import UTC, datetime

            from masterops.jobs.housekeeping import housekeeping_job

            handles = [start(housekeeping_job, datetime.now(UTC).isoformat())]
        else:
            slugs = [
                slug
                for slug, b in config.businesses.items()
                if "unleashed" in b.services and business in (None, slug)
            ]
            handles = [start(durable.UNLEASHED_JOBS[job], slug, False) for slug in slugs]
        results: list[dict[str, Any]] = []
        for handle in handles:
            try:
                results.append(handle.get_result())
            except Exception as exc:  # the job failed; the others still report
                results.append(
                    {
                        "job": job,
                        "workflow_id": handle.get_workflow_id(),
                        "status": "failed",
                        "message": redactor.text(str(exc)),
                    }
                )
        for other in resumed:
            if other.workflow_id not in adopted:
                # Another job this worker left unfinished: finish it before exiting; its
                # outcome is its own (recorded in its runs), not this command's.
                with contextlib.suppress(Exception):
                    DBOS.retrieve_workflow(other.workflow_id).get_result()
    return results


def _report_once(job: str, results: list[dict[str, Any]], *, json_output: bool) -> int:
    from masterops.cli.output import print_json, print_table

    if job == "health":
        [result] = results
        code = int(result.get("exit_code", 2))
    else:
        if not results:
            raise CommandFailed(f"--once {job}: no business uses the service it syncs")
        code = 1 if any(r.get("status") in FAILED_RUN_STATUSES for r in results) else 0
    if json_output:
        print_json({"job": job, "exit_code": code, "results": results})
    elif job == "housekeeping":
        [result] = results
        pruned = ", ".join(f"{n} {t}" for t, n in result.get("deleted", {}).items() if n)
        _say(
            f"housekeeping: {result.get('status')}; log rows deleted: {pruned or 'none'}; "
            f"finished jobs deleted from the job history: {result.get('deleted_jobs', 0)}",
            json_output=False,
        )
    elif job == "health":
        counts = ", ".join(f"{n} {s}" for s, n in results[0].get("counts", {}).items() if n)
        _say(
            f"health: {results[0].get('status')} ({counts or 'nothing checked'}); "
            f"{len(results[0].get('alerts', []))} alert(s); exit code {code}",
            json_output=False,
        )
    else:
        # The executions job reports one run per n8n instance.
        runs = [run for r in results for run in r.get("runs", [r])]
        print_table(
            [
                {
                    "business": r.get("business_id", ""),
                    "status": r.get("status"),
                    "message": r.get("message") or r.get("error") or "",
                }
                for r in runs
            ],
            ["business", "status", "message"],
            title=f"{job} (worker --once)",
        )
    return code
