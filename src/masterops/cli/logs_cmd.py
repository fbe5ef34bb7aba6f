"""``ops logs``: read and follow ``integration_logs``."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from masterops.cli.errors import UsageError
from masterops.cli.options import (
    BusinessOpt,
    WideOpt,
    check_business,
    command_context,
    limit_option,
)
from masterops.cli.output import console, human_time, print_line

LEVEL_STYLE = {"error": "red", "warn": "yellow", "info": "green", "debug": "dim"}


def _instant(flag: str, value: str | None) -> datetime | None:
    from masterops.timeparse import parse_instant

    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _render(row: dict[str, Any], json_output: bool, wide: bool = False) -> None:
    if json_output:
        typer.echo(json.dumps(row, default=str))
        return
    level = str(row["level"])
    where = "/".join(str(p) for p in (row["business_id"], row["service"], row["operation"]) if p)
    style = LEVEL_STYLE.get(level, "white")
    print_line(
        f"{human_time(row['created_at'], exact=True)} [{style}]{level.upper():5}[/{style}] "
        f"[bold]{escape(row['source'])}[/bold] {escape(where)} {escape(str(row['message']))}",
        wide=wide,
    )


def logs(
    source: Annotated[
        str | None, typer.Option(help="Only this source (integration, sync...).")
    ] = None,
    service: Annotated[str | None, typer.Option(help="Only this service (hubspot, ...).")] = None,
    level: Annotated[
        str | None, typer.Option(help="Only this level (debug/info/warn/error).")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="Only this status (retry, failure...).")
    ] = None,
    business: BusinessOpt = None,
    operation: Annotated[str | None, typer.Option(help="Only this operation.")] = None,
    since: Annotated[str | None, typer.Option(help="From this age (1h) or time (ISO).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this age or time.")] = None,
    limit: Annotated[int, limit_option("Rows at most (newest).")] = 100,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new rows.")] = False,
    follow_seconds: Annotated[
        float | None, typer.Option(help="With --follow: stop after this many seconds.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    wide: WideOpt = False,
) -> None:
    """Show integration logs, oldest first; --follow streams new ones."""
    from masterops.db.queries import query_logs

    if level is not None and level not in LEVEL_STYLE:
        raise UsageError(f"--level must be one of {', '.join(LEVEL_STYLE)}, got {level!r}")
    start, end = _instant("--since", since), _instant("--until", until)
    if start is not None and end is not None and start > end:
        raise UsageError(
            f"--since {since} ({start:%Y-%m-%d %H:%M:%S} UTC) is after --until {until} "
            f"({end:%Y-%m-%d %H:%M:%S} UTC): the window is empty; swap them"
        )
    filters = {
        "source": source,
        "service": service,
        "level": level,
        "status": status,
        "business_id": business,
        "operation": operation,
    }
    with command_context(json_output) as ctx:
        check_business(ctx.config, business)
        engine = ctx.database()
        with engine.connect() as conn:
            rows = query_logs(conn, filters=filters, since=start, until=end, limit=limit)
        for row in rows:
            _render(row, json_output, wide)
        if not follow:
            if not rows and not json_output:
                console().print("[dim]no log rows match[/dim]")
            return
        last_id = max((int(r["id"]) for r in rows), default=0)
        if not rows:
            with engine.connect() as conn:
                newest = query_logs(conn, filters=filters, limit=1)
            last_id = int(newest[-1]["id"]) if newest else 0
        deadline = None if follow_seconds is None else time.monotonic() + follow_seconds
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
            with engine.connect() as conn:
                fresh = query_logs(conn, filters=filters, after_id=last_id, limit=1000)
            for row in fresh:
                _render(row, json_output, wide)
                last_id = int(row["id"])
