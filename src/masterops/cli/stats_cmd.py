"""``ops stats``: the summaries over any window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from masterops.cli.errors import UsageError
from masterops.cli.options import JsonOpt, WideOpt, command_context
from masterops.cli.output import print_json, print_table

# A century: a longer window is a typo, and timedelta itself ends near 2.7 million years.
MAX_WINDOW_HOURS = 100 * 366 * 24


def collect(conn: Any, hours: float) -> dict[str, Any]:
    from masterops.db.summaries import run_summary

    since = datetime.now(UTC) - timedelta(hours=hours)
    return {
        "window_hours": hours,
        "since": since,
        "integrations": run_summary(conn, "integration_health_summary", since),
        "workflows": run_summary(conn, "workflow_performance_summary", since),
        "apis": run_summary(conn, "api_performance_summary", since),
    }


def stats(
    hours: Annotated[
        float, typer.Option(help="The window, in hours back from now.", max=MAX_WINDOW_HOURS)
    ] = 24,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Integration health, workflow performance and API performance over the last N hours."""
    if hours <= 0:
        raise UsageError(f"--hours must be positive, got {hours}")
    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        data = collect(conn, hours)
    if json_output:
        print_json(data)
        return
    window = f"last {hours:g} h"
    print_table(
        data["integrations"],
        title=f"Integration health ({window})",
        empty="no integration logs in this window",
        wide=wide,
    )
    print_table(
        data["workflows"],
        title=f"Workflow performance ({window})",
        empty="no workflow executions in this window",
        optional=("workflow_id", "p95_duration_ms", "successful_executions"),
        wide=wide,
    )
    print_table(
        data["apis"],
        title=f"API performance ({window})",
        empty="no API calls in this window",
        optional=("min_duration_ms", "max_duration_ms"),
        wide=wide,
    )
