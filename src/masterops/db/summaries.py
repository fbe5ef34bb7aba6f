"""The summary queries behind the views and ``ops stats``, per dialect.

Each summary is one SELECT whose time window is an SQL expression (the integration
and API summaries have a second form reading the rollups: db/rollup_summaries.py). The views
created by the migrations use a fixed window (``now`` minus 24 hours or 7 days);
``ops stats --hours N`` runs the very same SELECT with a bound ``:since``, so the
two can never disagree. PostgreSQL computes p95 with ``percentile_cont``; SQLite
has no percentile function, so it interpolates between the two neighbouring
ranks exactly as ``percentile_cont`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from masterops.db.rollup_summaries import ROLLED, run_rolled
from masterops.db.sql_time import ago
from masterops.db.types import time_param


@dataclass(frozen=True)
class Summary:
    name: str
    window_hours: int | None  # the view's window; None for the "recent" lists
    keys: tuple[str, ...]


SUMMARIES = {
    s.name: s
    for s in (
        Summary("integration_health_summary", 24, ("source",)),
        Summary("workflow_performance_summary", 24 * 7, ("workflow_id",)),
        Summary("api_performance_summary", 24, ("service", "endpoint")),
        Summary("recent_errors", None, ()),
        Summary("recent_workflow_failures", None, ()),
    )
}


def _p95(dialect: str, table: str, keys: tuple[str, ...], time_col: str, since: str) -> str:
    """A sub-query giving ``keys..., p95`` of ``duration_ms`` for rows since ``since``."""
    cols = ", ".join(keys)
    where = f"{time_col} >= {since} AND duration_ms IS NOT NULL"
    if dialect == "postgresql":
        return (
            f"SELECT {cols}, percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95 "
            f"FROM {table} WHERE {where} GROUP BY {cols}"
        )
    pos = "0.95 * (n - 1)"
    return (
        f"SELECT {cols}, lo + (hi - lo) * frac AS p95 FROM ("
        f"SELECT {cols},"
        f" MAX(CASE WHEN rn = CAST({pos} AS INTEGER) THEN v END) AS lo,"
        f" MAX(CASE WHEN rn = MIN(CAST({pos} AS INTEGER) + 1, n - 1) THEN v END) AS hi,"
        f" MAX({pos} - CAST({pos} AS INTEGER)) AS frac"
        f" FROM (SELECT {cols}, duration_ms AS v,"
        f" ROW_NUMBER() OVER (PARTITION BY {cols} ORDER BY duration_ms) - 1 AS rn,"
        f" COUNT(*) OVER (PARTITION BY {cols}) AS n"
        f" FROM {table} WHERE {where}) ranked GROUP BY {cols}) interpolated"
    )


def summary_sql(name: str, dialect: str, since: str) -> str:
    """The SELECT of summary ``name`` for ``dialect`` with window start ``since`` (SQL)."""
    if name == "integration_health_summary":
        return (
            "SELECT source, COUNT(*) AS total_logs,"
            " SUM(CASE WHEN level = 'error' THEN 1 ELSE 0 END) AS error_count,"
            " SUM(CASE WHEN level = 'warn' THEN 1 ELSE 0 END) AS warning_count,"
            " ROUND(100.0 * SUM(CASE WHEN level = 'error' THEN 1 ELSE 0 END) / COUNT(*), 2)"
            " AS error_rate_pct,"
            " MAX(created_at) AS last_activity"
            f" FROM integration_logs WHERE created_at >= {since} GROUP BY source"
        )
    if name == "workflow_performance_summary":
        p95 = _p95(dialect, "workflow_execution_logs", ("workflow_id",), "started_at", since)
        return (
            "SELECT a.workflow_id, a.workflow_name, a.total_executions, a.successful_executions,"
            " a.failed_executions, a.success_rate_pct, a.avg_duration_ms,"
            " p.p95 AS p95_duration_ms, a.last_execution_at FROM ("
            "SELECT workflow_id, MAX(workflow_name) AS workflow_name,"
            " COUNT(*) AS total_executions,"
            " SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) AS successful_executions,"
            " SUM(CASE WHEN status IN ('error', 'crashed') THEN 1 ELSE 0 END)"
            " AS failed_executions,"
            " ROUND(100.0 * SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END) / COUNT(*), 2)"
            " AS success_rate_pct,"
            " AVG(duration_ms) AS avg_duration_ms, MAX(started_at) AS last_execution_at"
            f" FROM workflow_execution_logs WHERE started_at >= {since} GROUP BY workflow_id) a"
            f" LEFT JOIN ({p95}) p ON p.workflow_id = a.workflow_id"
        )
    if name == "api_performance_summary":
        p95 = _p95(dialect, "api_metrics", ("service", "endpoint"), "created_at", since)
        return (
            "SELECT a.service, a.endpoint, a.total_calls, a.error_count, a.avg_duration_ms,"
            " p.p95 AS p95_duration_ms, a.min_duration_ms, a.max_duration_ms FROM ("
            "SELECT service, endpoint, COUNT(*) AS total_calls,"
            " SUM(CASE WHEN success THEN 0 ELSE 1 END) AS error_count,"
            " AVG(duration_ms) AS avg_duration_ms, MIN(duration_ms) AS min_duration_ms,"
            " MAX(duration_ms) AS max_duration_ms"
            f" FROM api_metrics WHERE created_at >= {since} GROUP BY service, endpoint) a"
            f" LEFT JOIN ({p95}) p ON p.service = a.service AND p.endpoint = a.endpoint"
        )
    if name == "recent_errors":
        return (
            "SELECT id, created_at, source, service, operation, message, business_id,"
            " workflow_id, details_json FROM integration_logs"
            f" WHERE level = 'error' AND created_at >= {since}"
            " ORDER BY created_at DESC, id DESC LIMIT 100"
        )
    if name == "recent_workflow_failures":
        return (
            "SELECT id, workflow_id, workflow_name, execution_id, status, mode, started_at,"
            " finished_at, duration_ms, error_message, business_id FROM workflow_execution_logs"
            f" WHERE status IN ('error', 'crashed') AND started_at >= {since}"
            " ORDER BY started_at DESC, id DESC LIMIT 50"
        )
    raise KeyError(name)


def view_sql(name: str, dialect: str) -> str:
    """The view's SELECT from raw rows (migration 0002; since 0016 the integration and
    API views, since 0020 the workflow view read the rollups:
    ``rollup_summaries.rolled_view_sql``)."""
    summary = SUMMARIES[name]
    if summary.window_hours is None:
        since = "'1970-01-01'" if dialect == "sqlite" else "'1970-01-01'::timestamptz"
        return summary_sql(name, dialect, since)
    return summary_sql(name, dialect, ago(dialect, summary.window_hours))


def run_summary(conn: Connection, name: str, since: datetime) -> list[dict[str, Any]]:
    """Rows of summary ``name`` for the window starting at ``since`` (any length).

    The integration, API and workflow summaries read the rollups (as their views do
    since migrations 0016 and 0020); ``run_raw_summary`` computes them from raw rows."""
    if name in ROLLED:
        return run_rolled(conn, name, since)
    return run_raw_summary(conn, name, since)


def run_raw_summary(conn: Connection, name: str, since: datetime) -> list[dict[str, Any]]:
    """Summary ``name`` computed from the raw rows alone (exact percentiles)."""
    sql = summary_sql(name, conn.dialect.name, ":since")
    result = conn.execute(text(sql), {"since": time_param(since, conn.dialect.name)})
    return [dict(row._mapping) for row in result]
