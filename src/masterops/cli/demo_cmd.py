"""``ops demo``: everything on this machine, nothing to configure.

It migrates the embedded database, seeds the businesses, starts the sandbox
in-process (unless real services are configured), runs a health round of every
business and service, runs the main job — a full inventory sync (Unleashed into the
database and products into HubSpot) and the n8n execution history — reads each
business's figures through the real connectors, and shows what the platform
recorded. It never fails on a service error: the point is to show them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from masterops.cli.options import JsonOpt, command_context
from masterops.cli.output import console, print_json, print_table
from masterops.db import migrate
from masterops.db.engine import describe_url
from masterops.db.summaries import run_summary
from masterops.registry import sync_businesses


async def _inventory(services: Any, business: str) -> dict[str, Any]:
    from masterops.integrations.factory import ServiceDisabled
    from masterops.integrations.unleashed import PRODUCTS, SALES_ORDERS, STOCK_ON_HAND, WAREHOUSES

    row: dict[str, Any] = {"business": business}
    try:
        connector = services.connector("unleashed", business)
    except ServiceDisabled as exc:
        return {**row, "note": str(exc)}
    from masterops.integrations.base import IntegrationError

    async with connector:
        try:
            for name, resource in (
                ("warehouses", WAREHOUSES),
                ("products", PRODUCTS),
                ("stock lines", STOCK_ON_HAND),
                ("sales orders", SALES_ORDERS),
            ):
                page = await connector.page(resource, page_size=1)
                row[name] = page.pagination.number_of_items
        except IntegrationError as exc:
            row["note"] = str(exc)
    return row


async def _automation(services: Any, business: str) -> list[dict[str, Any]]:
    from masterops.integrations.base import IntegrationError
    from masterops.integrations.factory import ServiceDisabled

    try:
        connector = services.connector("n8n", business)
    except ServiceDisabled:
        return []
    async with connector:
        try:
            stats = await connector.workflow_stats(since=datetime.now(UTC) - timedelta(days=7))
        except IntegrationError as exc:
            return [{"workflow": "(n8n)", "note": str(exc)}]
    rows = [
        {
            "workflow": s.workflow_name,
            "active": s.active,
            "runs": s.total,
            "failed": s.failed,
            "success %": None if s.success_rate is None else round(100 * s.success_rate, 1),
            "last failure": s.recent_failures[0].error_message if s.recent_failures else None,
        }
        for s in stats
        if s.total
    ]
    return sorted(rows, key=lambda r: (-int(r["failed"]), str(r["workflow"])))


async def _sync(services: Any, engine: Any) -> list[dict[str, Any]]:
    """The main job: inventory, customers and orders for every business, then n8n's
    execution history."""
    from masterops.cli.sync_cmd import _execution_jobs, run_jobs, unleashed_jobs

    businesses = list(services.config.businesses.values())
    # Inventory and customers before orders: deals and line items link to what they made.
    plans = {
        entity: unleashed_jobs(entity, services, engine, businesses, full=False, to_hubspot=True)
        for entity in ("inventory", "customers", "orders")
    }
    plans["executions"] = _execution_jobs(services, engine, businesses, full=False)
    rows: list[dict[str, Any]] = []
    for entity, (jobs, skipped) in plans.items():
        for row in [*await run_jobs(jobs, progress=False), *skipped]:
            summary = row.to_dict()
            summary.pop("result", None)
            rows.append({"sync": entity, **summary})
    return rows


async def _tour(
    services: Any, engine: Any, hub: Any
) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    from masterops.cli.health_cmd import run_round

    outcome = await run_round(services, engine, hub, business=None, service=None, send_alerts=True)
    synced = await _sync(services, engine)
    businesses = list(services.config.businesses)
    inventory = list(await asyncio.gather(*(_inventory(services, b) for b in businesses)))
    # One n8n instance serves every business: read it once, through the first business.
    automation = await _automation(services, businesses[0]) if businesses else []
    return outcome, synced, inventory, automation


def demo(json_output: JsonOpt = False) -> None:
    """Set up everything locally, run the main job (health, sync) and show the results.

    With no configuration it uses the embedded database and the in-process sandbox.
    """
    from masterops.cli.health_cmd import render_report
    from masterops.cli.services import open_services

    with command_context(json_output) as ctx:
        engine = ctx.database()
        with engine.begin() as conn:
            businesses = sync_businesses(conn, ctx.config)
        with open_services(ctx.config, ctx.hub, engine) as services:
            outcome, synced, inventory, automation = asyncio.run(_tour(services, engine, ctx.hub))
            mode = "sandbox (in-process)" if services.on_sandbox else "live services"
        ctx.flush_telemetry()
        since = datetime.now(UTC) - timedelta(hours=1)
        with engine.connect() as conn:
            api = run_summary(conn, "api_performance_summary", since)
            workflows = run_summary(
                conn, "workflow_performance_summary", datetime.now(UTC) - timedelta(days=7)
            )
        status = migrate.schema_status(engine)
        report = {
            "database": describe_url(engine),
            "revision": status.revision,
            "mode": mode,
            "businesses": businesses,
            "health": outcome.report.to_dict("default"),
            "sync": synced,
            "workflow_performance": workflows,
            "inventory": inventory,
            "automation": automation,
            "api_calls_last_hour": api,
            "row_counts": status.row_counts,
        }
        if json_output:
            print_json(report)
            return
        out = console()
        out.print(f"[bold]Master-Ops demo[/bold] - {mode}")
        out.print(f"database {report['database']} at revision {status.revision}")
        print_table(businesses, ("id", "name", "services", "enabled"), title="Businesses")
        render_report(outcome, "default")
        print_table(
            synced,
            ("sync", "target", "fetched", "written", "failed", "status", "message"),
            title="The main job: sync",
        )
        print_table(inventory, title="Inventory (Unleashed)")
        print_table(
            automation[:10],
            title="Automation, last 7 days (n8n)",
            empty="no workflow ran in the last 7 days",
        )
        print_table(
            sorted(workflows, key=lambda r: -(r["failed_executions"] or 0))[:10],
            ("workflow_name", "total_executions", "failed_executions", "success_rate_pct",
             "avg_duration_ms", "p95_duration_ms"),
            title="The same, from the synced history (workflow_performance_summary, 7 days)",
            empty="no executions synced",
        )  # fmt: skip
        print_table(
            api,
            title="What the platform recorded: API calls in the last hour",
            empty="no API call recorded",
        )
        print_table([{"table": k, "rows": v} for k, v in status.row_counts.items()], title="Data")
        typer.echo(
            "Next: ops health | ops sync inventory | ops test hubspot | ops logs --level warn | "
            "ops stats | ops db query products --limit 5 | ops sandbox (serve it on loopback)"
        )
