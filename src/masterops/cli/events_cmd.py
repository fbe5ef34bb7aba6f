"""``ops events list|show|replay|process``: the webhook inbox as the event log.

Every event a receiver accepted (HubSpot's, and the signed order webhooks) is kept here
with its outcome. ``ops webhooks process|list`` predate this group and stay as they were
(HubSpot events only); ``ops events`` covers every source.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import typer

from masterops.cli.errors import CommandFailed, UsageError
from masterops.cli.options import (
    BusinessOpt,
    DryRunOpt,
    JsonOpt,
    check_business,
    command_context,
    limit_option,
)
from masterops.cli.output import print_json, print_mapping, print_table

app = typer.Typer(
    help="The event log: every webhook event received (HubSpot, orders), listed, shown, replayed.",
    no_args_is_help=True,
)

STATUSES = ("pending", "processed", "failed")
SOURCES = ("hubspot", "orders")
LIST_COLUMNS = (
    "id",
    "source",
    "status",
    "business_id",
    "subscription_type",
    "object_id",
    "received_at",
    "attempts",
    "error",
)

SinceOpt = Annotated[
    str | None,
    typer.Option("--since", help="Only events received since: an age (2h, 7d) or a time."),
]
SourceOpt = Annotated[str | None, typer.Option("--source", help="hubspot or orders.")]


def _since(value: str | None) -> datetime | None:
    from masterops.timeparse import parse_instant

    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


def _check_choice(flag: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise UsageError(f"{flag}: {value!r} is not one of {', '.join(choices)}")


@app.command("list")
def list_(
    since: SinceOpt = None,
    business: BusinessOpt = None,
    source: SourceOpt = None,
    status: Annotated[
        str | None, typer.Option("--status", "-s", help="pending, processed or failed.")
    ] = None,
    limit: Annotated[int, limit_option("Events at most.")] = 50,
    json_output: JsonOpt = False,
) -> None:
    """List events, newest first."""
    from masterops.ingest.event_log import EventFilter, list_events

    _check_choice("--status", status, STATUSES)
    _check_choice("--source", source, SOURCES)
    where = EventFilter(since=_since(since), business_id=business, source=source, status=status)
    with command_context(json_output) as ctx:
        check_business(ctx.config, business)
        with ctx.database().connect() as conn:
            rows = list_events(conn, where, limit=limit)
    if json_output:
        print_json(rows)
        return
    shown: list[dict[str, Any]] = [{c: r.get(c) for c in LIST_COLUMNS} for r in rows]
    print_table(shown, LIST_COLUMNS, title="Event log", empty="no events")


@app.command("show")
def show(
    event_id: Annotated[int, typer.Argument(help="The event's id (the list's first column).")],
    json_output: JsonOpt = False,
) -> None:
    """One event in full, its payload as received."""
    from masterops.ingest.event_log import get_event

    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        row = get_event(conn, event_id)
    if row is None:
        raise CommandFailed(f"no event with id {event_id}; see `ops events list`")
    if json_output:
        print_json(row)
        return
    print_mapping(row, title=f"Event {event_id}")


@app.command("replay")
def replay(
    since: SinceOpt = None,
    business: BusinessOpt = None,
    source: SourceOpt = None,
    ids: Annotated[
        list[int] | None, typer.Option("--id", help="This event (repeat for several).")
    ] = None,
    dry_run: DryRunOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Process stored events again; replaying an applied event changes nothing.

    Events refused at receipt (a NUL character) are never replayed.
    """
    from masterops.ingest.event_log import EventFilter
    from masterops.operations.order_intake import replay_events

    _check_choice("--source", source, SOURCES)
    if since is None and business is None and source is None and not ids:
        raise UsageError(
            "say which events to replay: --since, --business, --source and/or --id "
            "(replaying the whole log is never what a typo should do)"
        )
    where = EventFilter(
        since=_since(since), business_id=business, source=source, ids=tuple(ids or ())
    )
    with command_context(json_output) as ctx:
        check_business(ctx.config, business)
        with ctx.services() as services:
            report = asyncio.run(
                replay_events(ctx.database(), ctx.hub, services, where, dry_run=dry_run)
            )
        ctx.flush_telemetry()
    if json_output:
        print_json(report.to_dict())
        return
    print_table(
        report.selected,
        ("id", "source", "business_id", "event_id", "status"),
        title="Would replay" if dry_run else "Replayed",
        empty="no event to replay",
    )
    if not dry_run:
        applied = sum(r.processed for r in report.orders)
        failed = sum(r.failed + r.retrying for r in report.orders)
        if report.hubspot:
            applied += int(report.hubspot["processed"])
            failed += int(report.hubspot["failed"]) + int(report.hubspot["retrying"])
        typer.echo(f"{report.replayed} replayed: {applied} applied, {failed} not")


@app.command("process")
def process(
    business: BusinessOpt = None,
    max_attempts: Annotated[
        int, typer.Option("--max-attempts", min=1, help="Attempts before an event is failed.")
    ] = 5,
    json_output: JsonOpt = False,
) -> None:
    """Apply every pending event once: HubSpot events, then order events.

    What the scheduled `webhooks` job does.
    """
    from masterops.operations.order_intake import process_orders
    from masterops.operations.webhooks import process_webhooks

    with command_context(json_output) as ctx:
        check_business(ctx.config, business)
        hubspot = process_webhooks(ctx.database(), ctx.hub, ctx.config, max_attempts=max_attempts)
        with ctx.services() as services:
            orders = asyncio.run(
                process_orders(
                    ctx.database(),
                    ctx.hub,
                    services,
                    business_id=business,
                    max_attempts=max_attempts,
                )
            )
        ctx.flush_telemetry()
    result = {"hubspot": hubspot.to_dict(), "orders": [r.to_dict() for r in orders]}
    if json_output:
        print_json(result)
        return
    rows = [
        {
            "business": r.business_id,
            "processed": r.processed,
            "stale": r.stale,
            "retrying": r.retrying,
            "failed": r.failed,
            "note": r.locked or "",
        }
        for r in orders
    ]
    print_table(rows, title="Order events", empty="no pending order events")
    typer.echo(
        f"HubSpot events: {hubspot.processed} processed, {hubspot.retrying} to retry, "
        f"{hubspot.failed} failed"
    )
