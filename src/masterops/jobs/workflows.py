"""The jobs, as DBOS workflows: thin durable wrappers around the platform's operations.

Each workflow is one step, and the step rebuilds everything it needs (configuration,
engine, telemetry, connectors) from the process's configuration and the plain arguments
it was given: arguments and results are pickled into the system database, so they are
strings, numbers and dicts, never clients or sessions, and a workflow recovered on
another worker or after a restart means the same thing there.

Steps run at least once (a worker killed mid-step runs it again on recovery). Each
operation is safe to repeat: a health round stores one more round and alerts only on
changes; syncs upsert by external ids behind watermarks.

Workflows are registered under explicit names, not their Python paths: DBOS finds the
code of a pending workflow by that name, so a moved or renamed function must not strand
work already in the system database.

Importing this module imports ``dbos``: only ``masterops.jobs.runtime`` and the worker
command do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from dbos import DBOS

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.cli.services import Services
    from masterops.observability.events import TelemetryHub

JobResult = dict[str, Any]
C = TypeVar("C")


@contextmanager
def _services() -> Iterator[tuple[Services, Engine, TelemetryHub]]:
    """The configured services (or the sandbox), the migrated platform database and a
    telemetry hub, for one step; telemetry is flushed when the step ends."""
    from masterops.cli.context import AppContext
    from masterops.cli.services import open_services

    ctx = AppContext()
    try:
        engine = ctx.database()
        hub = ctx.hub
        with open_services(ctx.config, hub, engine) as services:
            yield services, engine, hub
    finally:
        ctx.close()


# -- health ------------------------------------------------------------------------------


@DBOS.step(name="masterops.health_round.run")
def run_health_round_step(business: str | None, send_alerts: bool) -> JobResult:
    """One health round: check, store, alert on changes. Returns its summary."""
    from masterops.cli.health_cmd import run_round

    with _services() as (services, engine, hub):
        outcome = asyncio.run(
            run_round(
                services,
                engine,
                hub,
                business=business,
                service=None,
                send_alerts=send_alerts,
            )
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

UNLEASHED_SYNCS = ("inventory", "customers", "orders")


@DBOS.step(name="masterops.sync_unleashed.run")
def run_unleashed_sync_step(entity: str, business_id: str, full: bool) -> JobResult:
    """One business's Unleashed ``entity`` (inventory, customers or orders) into the
    database and, when the business has HubSpot, into HubSpot. A failed sync raises (its
    ``sync_runs`` row says how far it got): the workflow ends in error."""
    import importlib

    from masterops.cli.services import ServiceDisabled
    from masterops.integrations.hubspot import HubSpotConnector
    from masterops.integrations.unleashed import UnleashedConnector

    if entity not in UNLEASHED_SYNCS:
        raise ValueError(f"unknown sync {entity!r}; known: {', '.join(UNLEASHED_SYNCS)}")
    sync = getattr(importlib.import_module(f"masterops.sync.{entity}"), f"sync_{entity}")
    with _services() as (services, engine, _hub):
        try:
            unleashed = _as(UnleashedConnector, services.connector("unleashed", business_id))
        except ServiceDisabled as exc:
            return _disabled(entity, business_id, exc)
        try:
            hubspot: HubSpotConnector | None = _as(
                HubSpotConnector, services.connector("hubspot", business_id)
            )
        except ServiceDisabled:
            hubspot = None

        # The registry's word on what a business's customers become in HubSpot.
        extra: dict[str, Any] = (
            {"customers_as": services.config.business(business_id).customers_as}
            if entity == "customers"
            else {}
        )

        async def go() -> JobResult:
            async with AsyncExitStack() as stack:
                await stack.enter_async_context(unleashed)
                if hubspot is not None:
                    await stack.enter_async_context(hubspot)
                result = await sync(
                    unleashed, engine, business_id=business_id, hubspot=hubspot, full=full,
                    **extra,
                )  # fmt: skip
            return {"job": entity, **result.to_dict()}

        return asyncio.run(go())


@DBOS.workflow(name="masterops.sync_inventory")
def inventory_sync_job(business_id: str, full: bool = False) -> JobResult:
    """Sync one business's inventory (enqueue it on ``queues.sync_queue(business_id)``)."""
    return run_unleashed_sync_step("inventory", business_id, full)


@DBOS.workflow(name="masterops.sync_customers")
def customers_sync_job(business_id: str, full: bool = False) -> JobResult:
    """Sync one business's customers (enqueue it on ``queues.sync_queue(business_id)``)."""
    return run_unleashed_sync_step("customers", business_id, full)


@DBOS.workflow(name="masterops.sync_orders")
def orders_sync_job(business_id: str, full: bool = False) -> JobResult:
    """Sync one business's sales orders (enqueue it on ``queues.sync_queue(business_id)``)."""
    return run_unleashed_sync_step("orders", business_id, full)


@DBOS.workflow(name="masterops.sync_inventory.scheduled")
def scheduled_inventory_sync(scheduled_at: datetime, context: Any) -> None:
    run_unleashed_sync_step("inventory", str(context["business_id"]), False)


@DBOS.workflow(name="masterops.sync_customers.scheduled")
def scheduled_customers_sync(scheduled_at: datetime, context: Any) -> None:
    run_unleashed_sync_step("customers", str(context["business_id"]), False)


@DBOS.workflow(name="masterops.sync_orders.scheduled")
def scheduled_orders_sync(scheduled_at: datetime, context: Any) -> None:
    run_unleashed_sync_step("orders", str(context["business_id"]), False)


#: The on-demand workflow of each Unleashed sync, for ``ops worker --once``.
UNLEASHED_JOBS: dict[str, Callable[[str, bool], JobResult]] = {
    "inventory": inventory_sync_job,
    "customers": customers_sync_job,
    "orders": orders_sync_job,
}


# -- n8n executions ----------------------------------------------------------------------


@DBOS.step(name="masterops.sync_executions.run")
def run_executions_sync_step(full: bool) -> JobResult:
    """n8n's execution history into the database, each n8n instance read once.

    One n8n usually serves every business: the first business configured on an instance
    keys its watermark and run, and its workflows are placed among all the businesses
    configured on it (as ``ops sync executions`` does)."""
    from masterops.cli.services import ServiceDisabled
    from masterops.integrations.n8n import N8nConnector
    from masterops.sync.executions import sync_executions

    with _services() as (services, engine, _hub):
        config = services.config
        instances: dict[str, list[tuple[str, str]]] = {}
        for business in config.businesses.values():
            if business.n8n is not None:
                instances.setdefault(business.n8n.url, []).append((business.slug, business.name))
        runs: list[JobResult] = []
        disabled: list[JobResult] = []

        async def go() -> None:
            for url, sharing in instances.items():
                owner = sharing[0][0]
                try:
                    connector = _as(N8nConnector, services.connector("n8n", owner))
                except ServiceDisabled as exc:
                    disabled.append(_disabled("executions", owner, exc))
                    continue
                async with connector:
                    result = await sync_executions(
                        connector, engine, business_id=owner, full=full, businesses=sharing
                    )
                runs.append({"instance": url, **result.to_dict()})

        asyncio.run(go())
    failed = [r for r in runs if r["status"] != "succeeded"]
    status = "failed" if failed else "succeeded" if runs else "disabled"
    return {"job": "executions", "status": status, "runs": [*runs, *disabled]}


@DBOS.workflow(name="masterops.sync_executions")
def executions_sync_job(full: bool = False) -> JobResult:
    """Import n8n executions (enqueue it on ``queues.N8N_QUEUE``)."""
    return run_executions_sync_step(full)


@DBOS.workflow(name="masterops.sync_executions.scheduled")
def scheduled_executions_sync(scheduled_at: datetime, context: Any) -> None:
    run_executions_sync_step(False)


# -- the webhook inbox -------------------------------------------------------------------


@DBOS.step(name="masterops.webhooks.process")
def run_webhooks_step() -> JobResult:
    """Process the pending HubSpot events of the webhook inbox (``ops webhooks process``).
    Each event is its own transaction, so a repeated step re-does nothing."""
    from masterops.cli.context import AppContext
    from masterops.ingest import process_inbox
    from masterops.observability.redaction import Redactor

    ctx = AppContext()
    try:
        engine = ctx.database()
        report = process_inbox(engine, ctx.hub, redactor=Redactor(ctx.config.secrets()))
    finally:
        ctx.close()
    return {"job": "webhooks", "status": "succeeded", **report.to_dict()}


@DBOS.workflow(name="masterops.webhooks")
def webhooks_job() -> JobResult:
    """Process the webhook inbox once."""
    return run_webhooks_step()


@DBOS.workflow(name="masterops.webhooks.scheduled")
def scheduled_webhooks(scheduled_at: datetime, context: Any) -> None:
    run_webhooks_step()


def _as(kind: type[C], connector: object) -> C:
    """``connector``, checked to be a ``kind``: the factory returns the base class."""
    if not isinstance(connector, kind):
        raise TypeError(f"expected a {kind.__name__}, got {type(connector).__name__}")
    return connector


def _disabled(job: str, business_id: str, reason: Exception) -> JobResult:
    return {"job": job, "business_id": business_id, "status": "disabled", "message": str(reason)}


# The workflow each scheduled job runs (schedules.SCHEDULED_JOBS names the jobs).
SCHEDULED_WORKFLOWS: dict[str, Callable[[datetime, Any], None]] = {
    "health": scheduled_health_round,
    "inventory": scheduled_inventory_sync,
    "customers": scheduled_customers_sync,
    "orders": scheduled_orders_sync,
    "executions": scheduled_executions_sync,
    "webhooks": scheduled_webhooks,
}
