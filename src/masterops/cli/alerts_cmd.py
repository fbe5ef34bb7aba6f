"""``ops alerts list|show|ack|test``: what was announced (or tried), acknowledging an
alert until it recovers, and a channel check."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from masterops.cli.errors import CommandFailed, UsageError
from masterops.cli.options import JsonOpt, command_context, limit_option
from masterops.cli.output import print_json, print_table

app = typer.Typer(
    help="Alerts sent (or tried), acknowledging them, and a test through one channel.",
    no_args_is_help=True,
)

LIST_COLUMNS = (
    "id",
    "created_at",
    "business_id",
    "service",
    "status",
    "channel",
    "delivered",
    "acknowledged",
)


@app.command("list")
def list_(
    limit: Annotated[int, limit_option("Alerts at most.")] = 50,
    json_output: JsonOpt = False,
) -> None:
    """Alerts, one row per channel attempt, newest first; ``acknowledged`` while an ack
    of its subject is open."""
    from masterops.alerts import recent_alerts
    from masterops.alerts.acks import open_acks

    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        rows = recent_alerts(conn, limit=limit)
        acks = open_acks(conn, {(r["business_id"], r["service"]) for r in rows})
    for row in rows:
        row["acknowledged"] = (row["business_id"], row["service"]) in acks
    if json_output:
        print_json(rows)
        return
    shown: list[dict[str, Any]] = [{c: r.get(c) for c in LIST_COLUMNS} for r in rows]
    print_table(shown, LIST_COLUMNS, title="Alerts", empty="no alerts")


@app.command("show")
def show(
    alert_id: Annotated[int, typer.Argument(metavar="ID", help="An id from `ops alerts list`.")],
    json_output: JsonOpt = False,
) -> None:
    """One alert attempt in full: its message and, if it failed, why."""
    from sqlalchemy import select

    from masterops.db.tables import alert_history

    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        row = conn.execute(select(alert_history).where(alert_history.c.id == alert_id)).first()
    if row is None:
        raise UsageError(f"no alert {alert_id}; see `ops alerts list`")
    found = dict(row._mapping)
    if json_output:
        print_json(found)
        return
    for key, value in found.items():
        typer.echo(f"{key}: {value}")


@app.command("ack")
def ack(
    target: Annotated[
        str,
        typer.Argument(
            metavar="ID|SUBJECT",
            help="An id from `ops alerts list`, or BUSINESS/SERVICE (e.g. teelixir/sync:orders).",
        ),
    ],
    note: Annotated[str | None, typer.Option("--note", help="Why, for whoever looks next.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Acknowledge an alert: its subject stays quiet until it recovers (the recovery is
    still sent, and ends the acknowledgement)."""
    from masterops.operations.alerts import acknowledge_alert

    with command_context(json_output) as ctx:
        done = acknowledge_alert(ctx.database(), target, note=note, acked_by="cli")
    if json_output:
        print_json(done.to_dict())
        return
    typer.echo(
        f"acknowledged {done.business_id}/{done.service} ({done.status}): quiet until it "
        f"recovers (ack {done.id})"
    )


@app.command("test")
def test(
    channel: Annotated[
        str, typer.Argument(metavar="CHANNEL", help="log, slack, email or webhook.")
    ],
    json_output: JsonOpt = False,
) -> None:
    """Send a test alert through CHANNEL; exits 1 when it does not get through."""
    from masterops.operations.alerts import send_test_alert

    with command_context(json_output) as ctx:
        delivery = asyncio.run(send_test_alert(ctx.config, ctx.hub, channel))
        ctx.flush_telemetry()
    if json_output:
        print_json(
            {"channel": delivery.channel, "delivered": delivery.delivered, "error": delivery.error}
        )
    if not delivery.delivered:
        raise CommandFailed(f"the test alert did not get through {channel}: {delivery.error}")
    if not json_output:
        typer.echo(f"the test alert got through {channel}")
