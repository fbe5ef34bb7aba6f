"""``ops webhooks process|list``: act on the events ``ops serve`` stored, and look at them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from masterops.cli.errors import UsageError
from masterops.cli.options import JsonOpt, command_context, limit_option
from masterops.cli.output import print_json, print_table

app = typer.Typer(
    help="Process the HubSpot webhook inbox that `ops serve` fills, and list its events.",
    no_args_is_help=True,
)

STATUSES = ("pending", "processed", "failed")
LIST_COLUMNS = (
    "id",
    "status",
    "business_id",
    "subscription_type",
    "object_id",
    "occurred_at",
    "received_at",
    "attempts",
    "error",
)


@app.command("process")
def process(
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Events read from the inbox at a time.")
    ] = 200,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", min=1, help="Attempts before an event is failed.")
    ] = 5,
    json_output: JsonOpt = False,
) -> None:
    """Handle every pending HubSpot event once.

    Clears the mirror's ids of objects deleted in HubSpot, reports drift on properties the
    platform owns, and counts the rest. A failing event is retried by later runs.
    """
    from masterops.operations.webhooks import process_webhooks

    with command_context(json_output) as ctx:
        report = process_webhooks(
            ctx.database(),
            ctx.hub,
            ctx.config,
            batch_size=batch_size,
            max_attempts=max_attempts,
        )
        ctx.flush_telemetry()
    if json_output:
        print_json(report.to_dict())
        return
    print_table(report.rows(), title="Webhook events", empty="no pending events")
    typer.echo(
        f"{report.processed} processed, {report.retrying} to retry, {report.failed} failed"
        + (f", {report.skipped} skipped" if report.skipped else "")
    )


@app.command("list")
def list_(
    status: Annotated[
        str | None, typer.Option("--status", "-s", help="pending, processed or failed.")
    ] = None,
    limit: Annotated[int, limit_option("Events at most.")] = 50,
    json_output: JsonOpt = False,
) -> None:
    """List inbox events, newest first."""
    from masterops.ingest.processor import list_events

    if status is not None and status not in STATUSES:
        raise UsageError(f"--status: {status!r} is not one of {', '.join(STATUSES)}")
    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        rows = list_events(conn, status=status, limit=limit)
    if json_output:
        print_json(rows)
        return
    shown: list[dict[str, Any]] = [{c: r.get(c) for c in LIST_COLUMNS} for r in rows]
    print_table(shown, LIST_COLUMNS, title="Webhook inbox", empty="no events")
