"""``ops stats``: the summaries over any window, daily trends, and rebuilding the rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import typer

from masterops.cli.errors import UsageError
from masterops.cli.options import JsonOpt, WideOpt, command_context
from masterops.cli.output import print_json, print_table

# A century: a longer window is a typo, and timedelta itself ends near 2.7 million years.
MAX_WINDOW_HOURS = 100 * 366 * 24
#: The rollups' trend reads at most this many days (a daily row per service and day).
MAX_TREND_DAYS = 366

app = typer.Typer(
    help="Integration, workflow and API summaries over a window (no subcommand), "
    "trends (--trend), or rebuilding the rollups they read.",
    invoke_without_command=True,
)


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


def collect_trend(conn: Any, grain: Literal["daily", "hourly"], days: int) -> dict[str, Any]:
    from masterops.db.rollup_reads import trend

    return {"grain": grain, "days": days, "rows": trend(conn, grain, days, datetime.now(UTC))}


@app.callback()
def stats(
    ctx: typer.Context,
    hours: Annotated[
        float, typer.Option(help="The window, in hours back from now.", max=MAX_WINDOW_HOURS)
    ] = 24,
    trend: Annotated[
        str | None,
        typer.Option(
            "--trend",
            metavar="daily|hourly",
            help="Calls, error rate and p95 per service per UTC day (or hour) instead.",
        ),
    ] = None,
    days: Annotated[
        int, typer.Option(help="With --trend: how many days back, today included.")
    ] = 30,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Integration health, workflow performance and API performance over the last N hours."""
    if ctx.invoked_subcommand is not None:
        return
    if trend is not None:
        _show_trend(trend, days, json_output=json_output, wide=wide)
        return
    if hours <= 0:
        raise UsageError(f"--hours must be positive, got {hours}")
    with command_context(json_output) as context, context.database().connect() as conn:
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


def _show_trend(trend: str, days: int, *, json_output: bool, wide: bool) -> None:
    if trend not in ("daily", "hourly"):
        raise UsageError(f"--trend must be daily or hourly, got {trend!r}")
    if not 1 <= days <= MAX_TREND_DAYS:
        raise UsageError(f"--days must be between 1 and {MAX_TREND_DAYS}, got {days}")
    grain: Literal["daily", "hourly"] = "daily" if trend == "daily" else "hourly"
    with command_context(json_output) as context, context.database().connect() as conn:
        data = collect_trend(conn, grain, days)
    if json_output:
        print_json(data)
        return
    print_table(
        data["rows"],
        ("period_start", "service", "calls", "errors", "error_rate_pct", "p95_duration_ms"),
        title=f"API calls per service, {grain}, last {days} day(s) (UTC)",
        empty="no API calls in this period",
        wide=wide,
    )


@app.command("rebuild")
def rebuild(
    since: Annotated[
        str | None,
        typer.Option(
            help="Rebuild from the UTC day of this time on: an age (7d) or an ISO time. "
            "Default: everything (rollups of pruned rows go too)."
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Recompute the hourly and daily rollups from the raw log, metric and execution rows.

    One UTC day per transaction; while a day is recomputed, new rows for that table wait."""
    from masterops.db.rollups import rebuild as rebuild_rollups
    from masterops.timeparse import parse_instant

    start = None
    if since is not None:
        try:
            start = parse_instant(since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from None
    with command_context(json_output) as context:
        results = rebuild_rollups(context.database(), start)
    rows = [{"table": r.table, "days": r.days, "rows": r.rows, "since": r.since} for r in results]
    if json_output:
        print_json(rows)
        return
    print_table(rows, ("table", "days", "rows", "since"), title="Rollups rebuilt")
