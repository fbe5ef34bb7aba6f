"""``ops sync ...``: move data from the services into the platform database, incrementally.

Every command parses its flags, runs one sync (``operations.sync.run_sync``) with a
progress bar, prints one summary row per job and exits 1 if any failed.
``status`` and ``show`` read what the runs recorded: the last run of each sync with its
reasons grouped, and one run's every refused item (``operations.sync_status``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from masterops.cli.errors import CommandFailed
from masterops.cli.options import (
    BusinessOpt,
    JsonOpt,
    WideOpt,
    check_business,
    command_context,
    limit_option,
)

# The connectors and the sync modules are imported when a command runs, so the rest of
# `ops` starts light.
if TYPE_CHECKING:
    from masterops.operations.sync import Progress, SyncEntity, SyncRow

app = typer.Typer(
    help="Move data from the services into the platform database, incrementally "
    "(safe to stop and run again).",
    no_args_is_help=True,
)

FullOpt = Annotated[
    bool, typer.Option("--full", help="Read everything again, ignoring the watermark.")
]
NoHubSpotOpt = Annotated[
    bool, typer.Option("--no-hubspot", help="Only the database mirror; send nothing.")
]


def show_progress(json_output: bool) -> bool:
    """A bar only for a person watching: not with --json, not into a pipe or file."""
    return not json_output and sys.stdout.isatty()


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str], Progress | None]]:
    """Yields ``start(description)`` which adds a bar and returns its progress callback
    (``None`` when bars are off). One bar follows a job's stages one after another, so it
    advances by what each stage did since its last report, and counts upward."""
    if not enabled:
        yield lambda description: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    from masterops.cli.output import console

    with RichProgress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("read"),
        TimeElapsedColumn(),
        console=console(),
    ) as bar:

        def start(description: str) -> Progress:
            task = bar.add_task(description, total=None)
            seen: dict[str, int] = {}

            def report(stage: str, done: int, _total: int | None) -> None:
                step = done - seen.get(stage, 0)
                seen[stage] = done
                if step > 0:
                    bar.advance(task, step)

            return report

        yield start


def render(entity: str, rows: Sequence[SyncRow], *, json_output: bool, wide: bool = False) -> None:
    from masterops.cli.output import print_json, print_table
    from masterops.operations.sync import anything_ran, failures

    if json_output:
        print_json(
            {
                "entity": entity,
                "ok": not failures(rows) and anything_ran(rows),
                "results": [r.to_dict() for r in rows],
            }
        )
        return
    print_table(
        [r.to_dict() for r in rows],
        ["target", "fetched", "written", "failed", "watermark", "status", "message"],
        title=f"sync {entity}",
        empty="nothing to sync",
        optional=("watermark",),
        wide=wide,
    )


def exit_status(entity: str, rows: Sequence[SyncRow]) -> None:
    """Exit 1 naming what failed, or naming why nothing could run; return when all is well."""
    from masterops.operations.sync import anything_ran, failures

    failed = failures(rows)
    if failed:
        names = "; ".join(f"{r.target}: {r.message or r.status}" for r in failed)
        raise CommandFailed(f"sync {entity} failed for {names}")
    if not anything_ran(rows):
        reasons = "; ".join(r.message or r.target for r in rows) or "no business is configured"
        raise CommandFailed(f"sync {entity}: nothing could be synced: {reasons}")


def run_sync_command(
    entity: SyncEntity,
    *,
    business: str | None,
    json_output: bool,
    full: bool,
    to_hubspot: bool = True,
    wide: bool = False,
) -> None:
    """The body every ``ops sync`` command shares: run, print, exit."""
    from masterops.operations.alerts import alerts_after_job
    from masterops.operations.businesses import select_businesses
    from masterops.operations.sync import run_sync

    with command_context(json_output) as ctx:
        businesses = select_businesses(ctx.config, business)
        engine = ctx.database()
        with ctx.services() as services, progress_bar(show_progress(json_output)) as start:
            rows = asyncio.run(
                run_sync(
                    entity,
                    services,
                    engine,
                    businesses,
                    full=full,
                    to_hubspot=to_hubspot,
                    start=start,
                )
            )
        asyncio.run(alerts_after_job(ctx.config, engine, ctx.hub, job=f"sync {entity}"))
        render(entity, rows, json_output=json_output, wide=wide)
    # After the context closed, so the telemetry sink has flushed before the process ends.
    exit_status(entity, rows)


@app.command("executions")
def executions(
    business: BusinessOpt = None,
    full: FullOpt = False,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Copy n8n's execution history into workflow_execution_logs (each n8n instance once)."""
    run_sync_command("executions", business=business, json_output=json_output, full=full, wide=wide)


def _unleashed_command(entity: SyncEntity, help_text: str) -> None:
    """Register ``ops sync <entity>`` for an Unleashed-sourced sync (they share flags)."""

    def command(
        business: BusinessOpt = None,
        full: FullOpt = False,
        no_hubspot: NoHubSpotOpt = False,
        json_output: JsonOpt = False,
        wide: WideOpt = False,
    ) -> None:
        run_sync_command(
            entity, business=business, json_output=json_output, full=full,
            to_hubspot=not no_hubspot, wide=wide,
        )  # fmt: skip

    app.command(entity, help=help_text)(command)


_unleashed_command(
    "inventory",
    "Copy Unleashed products and stock into the database, and products into HubSpot.",
)
_unleashed_command(
    "customers", "Copy Unleashed customers into the database, and into HubSpot contacts."
)
_unleashed_command(
    "orders",
    "Copy Unleashed sales orders into the database, and into HubSpot deals and line items "
    "(run inventory and customers first so line items and deals link to them).",
)


# -- why did a sync fail? ----------------------------------------------------------------

EntityOpt = Annotated[
    str | None,
    typer.Option(
        "--entity", "-e", help="Only this sync: inventory, customers, orders, executions."
    ),
]
# A run id is a BIGINT: a larger number is a typo, refused by the parser in one line.
RunArg = Annotated[
    int,
    typer.Argument(
        help="The run's id (the 'run' column of 'ops sync status').",
        metavar="RUN",
        min=1,
        max=2**63 - 1,
        show_default=False,
    ),
]
STATUS_STYLES = {"status": {"succeeded": "green", "failed": "red", "interrupted": "yellow"}}


@app.command("status")
def status(
    business: BusinessOpt = None,
    entity: EntityOpt = None,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """The last run of each business and sync: when, its counts, and why items failed
    (the most frequent reasons, grouped). 'ops sync show RUN' lists every refused item."""
    from rich.markup import escape

    from masterops.cli.output import print_json, print_line, print_table
    from masterops.operations.sync_status import (
        check_entity,
        duration_text,
        latest_status,
        reason_lines,
    )

    check_entity(entity)
    with command_context(json_output) as ctx:
        check_business(ctx.config, business)
        with ctx.database().connect() as conn:
            runs = latest_status(
                conn, businesses=None if business is None else [business], entity=entity
            )
    if json_output:
        print_json({"count": len(runs), "runs": runs})
        return
    print_table(
        [
            {
                "run": r["id"],
                "business": r["business_id"],
                "entity": r["entity"],
                "status": r["status"],
                "when": r["started_at"],
                "fetched": r["fetched"],
                "written": r["written"],
                "failed": r["failed"],
                "duration": duration_text(r["duration_s"]),
            }
            for r in runs
        ],
        title="sync status (last run of each)",
        empty="no sync has run yet (try 'ops sync inventory')",
        optional=("duration",),
        styles=STATUS_STYLES,
        wide=wide,
    )
    # Under the table, not in a column: a reason is a sentence, and a column of them
    # squeezed into 100 characters is one word per line.
    for run in runs:
        lines = reason_lines(run)
        if lines:
            print_line(
                f"[bold]run {run['id']}[/bold] ({escape(run['business_id'])} "
                f"{escape(run['entity'])}, {run['status']}):",
                wide=wide,
            )
            for line in lines:
                print_line(f"  {escape(line)}", wide=wide)


@app.command("show")
def show(
    run_id: RunArg,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
    limit: Annotated[
        int | None, limit_option("Show at most this many refused items (default: all).")
    ] = None,
) -> None:
    """One run: its counts, how it ended, and every item HubSpot refused with the reason."""
    from masterops.cli.output import print_json, print_mapping, print_table
    from masterops.operations.sync_status import duration_text, run_detail

    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        run = run_detail(conn, run_id, limit=limit)
    if json_output:
        print_json(run)
        return
    print_mapping(
        {
            "run": run["id"],
            "business": run["business_id"],
            "entity": run["entity"],
            "status": run["status"],
            "full": run["full"],
            "started": run["started_at"],
            "finished": run["finished_at"],
            "duration": duration_text(run["duration_s"]),
            "fetched": run["fetched"],
            "written": run["written"],
            "failed": run["failed"],
            "refused items": run["refused_count"],
            "error": run["error_message"],
            "watermark before": run["watermark_before"],
            "watermark after": run["watermark_after"],
        },
        title=f"sync run {run['id']}",
        wide=wide,
    )
    refused = run["refused"]
    print_table(
        [
            {
                "kind": item["item_kind"],
                "key": item["item_key"],
                "category": item["category"],
                "status": item["status_code"],
                "reason": item["reason"],
            }
            for item in refused
        ],
        title="refused items",
        empty="no item was refused",
        optional=("category", "status"),
        wide=wide,
    )
    if len(refused) < run["refused_count"]:
        print(
            f"showing {len(refused)} of {run['refused_count']} refused items "
            "(--limit N for more, --json for scripts)"
        )
