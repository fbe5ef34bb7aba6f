"""``ops demo``: everything on this machine, nothing to configure.

It migrates the embedded database, seeds the businesses, starts the sandbox
in-process (unless real services are configured), runs a health round of every
business and service, runs the main job — inventory, customers and orders (Unleashed
into the database and into HubSpot) and the n8n execution history — and shows what
the platform recorded, read back from the database. A service that is down is shown,
not fatal; a sync that failed makes the command exit 1 after the report.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import typer

from masterops.cli.errors import CommandFailed
from masterops.cli.options import JsonOpt, command_context
from masterops.cli.output import console, print_json, print_table


def demo(json_output: JsonOpt = False) -> None:
    """Set up everything locally, run the main job (health, sync) and show the results.

    With no configuration it uses the embedded database and the in-process sandbox, whose
    state is kept in the state folder for the next command. Exits 1 when a sync failed.
    """
    from masterops.cli.health_cmd import render_report
    from masterops.db import migrate
    from masterops.db.engine import describe_url
    from masterops.db.queries import mirror_counts
    from masterops.db.summaries import run_summary
    from masterops.operations.main_job import main_job
    from masterops.operations.reports import build_reports
    from masterops.registry import sync_businesses
    from masterops.reports.render import text as report_text

    with command_context(json_output) as ctx:
        engine = ctx.database()
        with engine.begin() as conn:
            businesses = sync_businesses(conn, ctx.config)
        with ctx.services() as services:
            done = asyncio.run(main_job(services, engine, ctx.hub))
            outcome, synced = done.health, done.sync
            mode = (
                f"sandbox (state in {ctx.config.sandbox_state})"
                if services.on_sandbox
                else "live services"
            )
        ctx.flush_telemetry()
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        week = datetime.now(UTC) - timedelta(days=7)
        # Everything shown from here on is read back from the database the main job wrote.
        with engine.connect() as conn:
            inventory = mirror_counts(conn)
            failures = run_summary(conn, "recent_workflow_failures", week)
            api = run_summary(conn, "api_performance_summary", hour_ago)
            workflows = run_summary(conn, "workflow_performance_summary", week)
        status = migrate.schema_status(engine)
        daily = build_reports(ctx.config, engine, "daily")
        report = {
            "database": describe_url(engine),
            "revision": status.revision,
            "mode": mode,
            "businesses": businesses,
            "health": outcome.report.to_dict("default"),
            "sync": synced,
            "workflow_performance": workflows,
            "inventory": inventory,
            "workflow_failures": failures,
            "api_calls_last_hour": api,
            "row_counts": status.row_counts,
            "daily_reports": [r.to_dict() for r in daily],
        }
        if json_output:
            print_json(report)
            _exit_status(synced)
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
        print_table(inventory, title="What the syncs mirrored, per business")
        print_table(
            sorted(workflows, key=lambda r: -(r["failed_executions"] or 0))[:10],
            ("workflow_name", "total_executions", "failed_executions", "success_rate_pct",
             "avg_duration_ms", "p95_duration_ms"),
            title="Workflow performance from the synced history (last 7 days)",
            empty="no executions synced",
        )  # fmt: skip
        print_table(
            failures[:8],
            ("workflow_name", "started_at", "status", "error_message"),
            title="Recent workflow failures",
            empty="no workflow failed",
        )
        print_table(
            api,
            title="What the platform recorded: API calls in the last hour",
            empty="no API call recorded",
        )
        print_table([{"table": k, "rows": v} for k, v in status.row_counts.items()], title="Data")
        out.print("[bold]Daily report[/bold] (yesterday, each business's local day)")
        for daily_report in daily:
            typer.echo(report_text(daily_report, short=True))
        typer.echo(
            "Next: ops health | ops sync inventory | ops test hubspot | ops logs --level warn | "
            "ops stats | ops report daily | ops db query products --limit 5 | "
            "ops sandbox (serve it on loopback)"
        )
        _exit_status(synced)


def _exit_status(synced: list[dict[str, Any]]) -> None:
    """Exit 1 naming every sync that failed: a demo whose main job failed is no success."""
    failed = [r for r in synced if r["status"] in ("failed", "interrupted")]
    if failed:
        names = "; ".join(
            f"{r['sync']} {r['target']}: {r.get('message') or r['status']}" for r in failed
        )
        raise CommandFailed(f"demo: the sync failed for {names}")
