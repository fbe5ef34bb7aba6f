"""The durable jobs, as DBOS workflows: thin wrappers around ``masterops.operations``.

Each workflow is one step. What a step needs beyond its plain arguments comes from the
process: ``process_context`` (entered by ``runtime.launched``) builds the configuration,
the engine with its schema check and the telemetry hub once per worker launch, and each
step takes a ``step_context()`` of it, with connectors (and their rate-limit runtime)
of its own. Arguments and results are pickled into the system database, so they are
strings, numbers and dicts, never clients or sessions, and a workflow recovered on
another worker or after a restart means the same thing there. A changed configuration
therefore takes effect when a worker restarts, as for any long-running process.
(Scheduled reports still read theirs per step: they run a few times a day, and read
their mail settings as they are when they send.)

Steps run at least once (a worker killed mid-step runs it again on recovery). Each
operation is safe to repeat: a health round stores one more round and alerts only on
changes; syncs upsert by external ids behind watermarks.

Workflows are registered under explicit names, not their Python paths: DBOS finds the
code of a pending workflow by that name, so a moved or renamed function must not strand
work already in the system database.

(This module was ``jobs/workflows.py``: "workflows" are n8n's; these are jobs.)

Importing this module imports ``dbos``: only ``masterops.jobs.runtime`` and the worker
command do.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any, ParamSpec

from dbos import DBOS

from masterops.config import Config
from masterops.jobs.coalesce import Coalescer
from masterops.operations.context import AppContext

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.operations.services import Services
    from masterops.operations.sync import SyncEntity, SyncRow

JobResult = dict[str, Any]
P = ParamSpec("P")

# The context of the step running on this thread: the hook below builds it, so that the
# step's own events and its start and end lines go through one hub.
_step_context: ContextVar[AppContext | None] = ContextVar("_step_context", default=None)


# The context of the process running jobs (``process_context``), None outside one, and
# the coalescer of its alert evaluations.
_process: AppContext | None = None
_alerts: Coalescer | None = None


@contextmanager
def process_context(config: Config) -> Iterator[AppContext]:
    """The job-running process's context, shared by its steps until the block ends.

    Its engine (with the schema check) and hub are built here, on the launching thread,
    before DBOS can start a step (it resumes pending work at launch): steps on DBOS's
    threads then only read them. The alert rules after its jobs are evaluated at most
    every ``[workers] alerts_every_s`` (``coalesce.py``). On exit an evaluation still due
    runs, the telemetry is flushed and the engine disposed."""
    global _process, _alerts
    ctx = AppContext(config=config)
    try:
        ctx.database()
        _ = ctx.hub
        _alerts = Coalescer(
            lambda job: _evaluate_alerts(ctx, ctx.database(), job),
            interval_s=config.workers.alerts_every_s,
        )
        _process = ctx
        yield ctx
    finally:
        _process = None
        coalescer, _alerts = _alerts, None
        try:
            if coalescer is not None:
                coalescer.close()
        finally:
            ctx.close()


def current_step_context() -> AppContext:
    """The context of the job step running on this thread (``_announced`` gives each
    step one); a function called outside a step is a bug, said as such."""
    ctx = _step_context.get()
    if ctx is None:
        raise RuntimeError("a job step runs inside _announced")
    return ctx


def _step_context_now(reuse: bool) -> AppContext:
    """The context of a step starting now: one borrowed from the process's, or (a step
    that reads its settings afresh, or one run outside ``runtime.launched``) its own."""
    process = _process
    if reuse and process is not None:
        return process.step_context()
    return AppContext()


class SyncFailed(Exception):
    """A sync ended by an error (its ``sync_runs`` row says how far it got): raised so that
    the workflow ends in error, visible as such in DBOS."""


def _announced(
    describe: Callable[..., tuple[str, str | None]],
    *,
    reuse: bool = True,
) -> Callable[[Callable[P, JobResult]], Callable[P, JobResult]]:
    """Wrap a step so that it says when it starts and how it ended (business, outcome,
    duration) as ``worker`` log events: the one place a worker's console hears of its
    jobs, whichever job it is. ``describe`` names the job and business from the step's
    arguments. The step's context is taken here (from the process's, unless ``reuse``
    is False) and closed when the step ends."""

    def wrap(step: Callable[P, JobResult]) -> Callable[P, JobResult]:
        @functools.wraps(step)
        def announced(*args: P.args, **kwargs: P.kwargs) -> JobResult:
            job, business = describe(*args, **kwargs)
            ctx = _step_context_now(reuse)
            token = _step_context.set(ctx)
            started = time.monotonic()
            try:
                _announce(ctx, job, business, "started", None)
                try:
                    result = step(*args, **kwargs)
                except Exception as exc:
                    _announce(ctx, job, business, "failed", time.monotonic() - started, str(exc))
                    raise
                outcome = str(result.get("status") or "succeeded")
                _announce(ctx, job, business, outcome, time.monotonic() - started)
                return result
            finally:
                _step_context.reset(token)
                ctx.close()

        return announced

    return wrap


def _announce(
    ctx: AppContext,
    job: str,
    business: str | None,
    outcome: str,
    duration_s: float | None,
    error: str | None = None,
) -> None:
    from masterops.observability.events import LogEvent

    failed = outcome in ("failed", "interrupted")
    took = f" in {duration_s:.1f} s" if duration_s is not None else ""
    ctx.hub.emit(
        LogEvent(
            source="worker",
            service=None,
            operation=job,
            level="error" if failed else "info",
            message=f"job {job} {outcome}{took}" + (f": {error}" if error else ""),
            status=outcome,
            duration_ms=duration_s * 1000 if duration_s is not None else None,
            business_id=business,
        )
    )


@contextmanager
def _services() -> Iterator[tuple[AppContext, Services, Engine]]:
    """The context (the announced step's), the configured services (or the sandbox) and
    the migrated platform database, for one step."""
    ctx = current_step_context()
    engine = ctx.database()
    with ctx.services() as services:
        yield ctx, services, engine


def _alerts_after(ctx: AppContext, engine: Engine, job: str) -> None:
    """The alert rules over what the job left (``operations.alerts.alerts_after_job``):
    a failed sync, refused items, failed executions, events that gave up... In a
    job-running process, paced (``process_context``); elsewhere, now."""
    coalescer = _alerts
    if coalescer is not None:
        coalescer.request(job)
    else:
        _evaluate_alerts(ctx, engine, job)


def _evaluate_alerts(ctx: AppContext, engine: Engine, job: str) -> None:
    from masterops.operations.alerts import alerts_after_job

    asyncio.run(alerts_after_job(ctx.config, engine, ctx.hub, job=job))


# -- health ------------------------------------------------------------------------------


@DBOS.step(name="masterops.health_round.run")
@_announced(lambda business, send_alerts: ("health", business))
def run_health_round_step(business: str | None, send_alerts: bool) -> JobResult:
    """One health round: check, store, alert on changes. Returns its summary."""
    from masterops.operations.health import health_round

    with _services() as (ctx, services, engine):
        outcome = asyncio.run(
            health_round(services, engine, ctx.hub, business=business, send_alerts=send_alerts)
        )
    report = outcome.report
    return {
        "job": "health",
        "status": report.status,
        "exit_code": report.exit_code("default"),
        "checked": len(report.results),
        "counts": dict(report.counts()),
        "alerts": [
            {"title": r.alert.title, "delivered": r.delivery.delivered} for r in outcome.alerts
        ],
    }


@DBOS.workflow(name="masterops.health_round")
def health_round_job(business: str | None = None, send_alerts: bool = True) -> JobResult:
    """A health round of every business (or one), stored, with alerts."""
    return run_health_round_step(business, send_alerts)


@DBOS.workflow(name="masterops.health_round.scheduled")
def scheduled_health_round(scheduled_at: datetime, context: Any) -> None:
    run_health_round_step(None, True)


# -- the Unleashed-sourced syncs: inventory, customers, orders ---------------------------


def _row_result(job: str, row: SyncRow) -> JobResult:
    """A sync's row as a job's plain result: the sync's own figures when it ran, else
    why not (disabled, or the error that ended it)."""
    if row.result:
        return {"job": job, **row.result}
    return {"job": job, "business_id": row.business, "status": row.status, "message": row.message}


@DBOS.step(name="masterops.sync_unleashed.run")
@_announced(lambda entity, business_id, full: (f"sync {entity}", business_id))
def run_unleashed_sync_step(entity: SyncEntity, business_id: str, full: bool) -> JobResult:
    """One business's Unleashed ``entity`` (inventory, customers or orders) into the
    database and, when the business has HubSpot, into HubSpot (``operations.sync``).
    A sync that an error ended raises ``SyncFailed``: the workflow ends in error."""
    from masterops.operations.sync import UNLEASHED_ENTITIES, run_sync

    if entity not in UNLEASHED_ENTITIES:
        raise ValueError(f"unknown sync {entity!r}; known: {', '.join(UNLEASHED_ENTITIES)}")
    with _services() as (ctx, services, engine):
        business = services.config.business(business_id)
        [row] = asyncio.run(run_sync(entity, services, engine, [business], full=full))
        _alerts_after(ctx, engine, f"sync {entity}")
    if row.status == "failed" and not row.result:
        raise SyncFailed(f"sync {entity} of {business_id} failed: {row.message}")
    return _row_result(entity, row)


# Enqueue these on ``queues.SYNC_QUEUE`` with the business id as the partition key.


@DBOS.workflow(name="masterops.sync_inventory")
def inventory_sync_job(business_id: str, full: bool = False) -> JobResult:
    """Sync one business's inventory."""
    return run_unleashed_sync_step("inventory", business_id, full)


@DBOS.workflow(name="masterops.sync_customers")
def customers_sync_job(business_id: str, full: bool = False) -> JobResult:
    """Sync one business's customers."""
    return run_unleashed_sync_step("customers", business_id, full)


@DBOS.workflow(name="masterops.sync_orders")
def orders_sync_job(business_id: str, full: bool = False) -> JobResult:
    """Sync one business's sales orders."""
    return run_unleashed_sync_step("orders", business_id, full)


def _sync_on_its_partition(workflow: Callable[[str, bool], JobResult], business_id: str) -> None:
    """A scheduled sync: enqueue the sync itself in the business's partition of the sync
    queue (a schedule cannot name a partition: ``queues.py``), so that it never runs
    beside an on-demand sync of the business. Durable like any enqueue from a workflow:
    a recovered run finds its sync already enqueued, under the same id.

    It does not wait for the sync: a workflow blocked on another that its own process
    has stopped dequeueing would hold the worker's shutdown until the other ran
    elsewhere."""
    from dbos import SetEnqueueOptions

    from masterops.jobs.queues import SYNC_QUEUE

    with SetEnqueueOptions(queue_partition_key=business_id):
        DBOS.enqueue_workflow(SYNC_QUEUE, workflow, business_id, False)


@DBOS.workflow(name="masterops.sync_inventory.scheduled")
def scheduled_inventory_sync(scheduled_at: datetime, context: Any) -> None:
    _sync_on_its_partition(inventory_sync_job, str(context["business_id"]))


@DBOS.workflow(name="masterops.sync_customers.scheduled")
def scheduled_customers_sync(scheduled_at: datetime, context: Any) -> None:
    _sync_on_its_partition(customers_sync_job, str(context["business_id"]))


@DBOS.workflow(name="masterops.sync_orders.scheduled")
def scheduled_orders_sync(scheduled_at: datetime, context: Any) -> None:
    _sync_on_its_partition(orders_sync_job, str(context["business_id"]))


#: The on-demand workflow of each Unleashed sync, for ``ops worker --once``.
UNLEASHED_JOBS: dict[str, Callable[[str, bool], JobResult]] = {
    "inventory": inventory_sync_job,
    "customers": customers_sync_job,
    "orders": orders_sync_job,
}


# -- n8n executions ----------------------------------------------------------------------


@DBOS.step(name="masterops.sync_executions.run")
@_announced(lambda full: ("sync executions", None))
def run_executions_sync_step(full: bool) -> JobResult:
    """n8n's execution history into the database, each n8n instance read once (the plan
    ``ops sync executions`` runs, over every business)."""
    from masterops.operations.sync import failures, run_sync

    with _services() as (ctx, services, engine):
        businesses = list(services.config.businesses.values())
        rows = asyncio.run(run_sync("executions", services, engine, businesses, full=full))
        _alerts_after(ctx, engine, "sync executions")
    ran = [r for r in rows if r.status != "disabled"]
    status = "failed" if failures(rows) else "succeeded" if ran else "disabled"
    runs = [
        {"instance": r.target, **r.result} if r.result else _row_result("executions", r)
        for r in rows
    ]
    return {"job": "executions", "status": status, "runs": runs}


@DBOS.workflow(name="masterops.sync_executions")
def executions_sync_job(full: bool = False) -> JobResult:
    """Import n8n executions (enqueue it on ``queues.N8N_QUEUE``)."""
    return run_executions_sync_step(full)


@DBOS.workflow(name="masterops.sync_executions.scheduled")
def scheduled_executions_sync(scheduled_at: datetime, context: Any) -> None:
    run_executions_sync_step(False)


# -- the webhook inbox -------------------------------------------------------------------


@DBOS.step(name="masterops.webhooks.process")
@_announced(lambda: ("webhooks", None))
def run_webhooks_step() -> JobResult:
    """Process the pending events of the webhook inbox (``ops events process``): HubSpot
    events, then order events. Each is applied idempotently, so a repeated step re-does
    nothing."""
    from masterops.operations.order_intake import process_orders
    from masterops.operations.webhooks import process_webhooks

    ctx = current_step_context()
    report = process_webhooks(ctx.database(), ctx.hub, ctx.config)
    # Order events (POST /webhooks/orders/<business>) left pending: the serving process
    # applies them at once, this catches whatever it could not (a restart, a held lock).
    with _services() as (_ctx, services, engine):
        orders = asyncio.run(process_orders(engine, ctx.hub, services))
    _alerts_after(ctx, ctx.database(), "webhooks")
    return {
        "job": "webhooks",
        "status": "succeeded",
        **report.to_dict(),
        "orders": [r.to_dict() for r in orders],
    }


@DBOS.workflow(name="masterops.webhooks")
def webhooks_job() -> JobResult:
    """Process the webhook inbox once."""
    return run_webhooks_step()


@DBOS.workflow(name="masterops.webhooks.scheduled")
def scheduled_webhooks(scheduled_at: datetime, context: Any) -> None:
    run_webhooks_step()


# -- scheduled reports -------------------------------------------------------------------


@DBOS.step(name="masterops.reports.due")
def due_reports_step(now_iso: str) -> list[dict[str, Any]]:
    """The scheduled reports due at ``now_iso`` and not yet sent (``report_deliveries``)."""
    import dataclasses

    from masterops.operations.reports import due_deliveries

    ctx = AppContext()
    try:
        due = due_deliveries(ctx.config, ctx.database(), datetime.fromisoformat(now_iso))
    finally:
        ctx.close()
    return [dataclasses.asdict(d) for d in due]


@DBOS.step(name="masterops.reports.deliver.run")
@_announced(
    lambda due, now_iso, claimant: (f"report {due['kind']}", due["business_id"]), reuse=False
)
def deliver_report_step(due: dict[str, Any], now_iso: str, claimant: str) -> JobResult:
    """Claim, build and send one scheduled report (``operations.reports``)."""
    from masterops.operations.reports import DueDelivery, deliver_scheduled

    ctx = current_step_context()
    result = deliver_scheduled(
        ctx.config,
        ctx.database(),
        DueDelivery(**due),
        claimant=claimant,
        now=datetime.fromisoformat(now_iso),
    )
    return {"job": "report", **result}


@DBOS.workflow(name="masterops.reports.deliver")
def report_delivery_job(due: dict[str, Any], now_iso: str) -> JobResult:
    """One scheduled report; started under ``DueDelivery.workflow_id``, so it runs once
    per (business, kind, period, attempt) however many workers start it."""
    return deliver_report_step(due, now_iso, str(DBOS.workflow_id))


@DBOS.workflow(name="masterops.reports.scheduled")
def scheduled_reports(scheduled_at: datetime, context: Any) -> None:
    """The reports' tick: start the delivery of each report whose local time has come."""
    from dbos import SetWorkflowID

    from masterops.operations.reports import DueDelivery

    now_iso = scheduled_at.isoformat()
    for due in due_reports_step(now_iso):
        with SetWorkflowID(DueDelivery(**due).workflow_id):
            DBOS.start_workflow(report_delivery_job, due, now_iso)


# The workflow each scheduled job runs (schedules.SCHEDULED_JOBS names the jobs).
SCHEDULED_WORKFLOWS: dict[str, Callable[[datetime, Any], None]] = {
    "health": scheduled_health_round,
    "inventory": scheduled_inventory_sync,
    "customers": scheduled_customers_sync,
    "orders": scheduled_orders_sync,
    "executions": scheduled_executions_sync,
    "webhooks": scheduled_webhooks,
    "reports": scheduled_reports,
}
