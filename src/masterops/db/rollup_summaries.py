"""Summaries over a window read from the rollups, per dialect.

A window ``[since, now]`` is cut at two edges: the raw rows from ``since`` up to the
next whole hour (``hour_edge``), the hourly rollups up to the next whole day
(``day_edge``), and the daily rollups from there on. The rollups are kept up to the
last committed row, so the current hour and day need no raw rows. A 90-day window
reads about 90 daily rows, 23 hourly rows and under an hour of raw rows per key.

Percentiles come from the summed histograms (db/latency_histogram.py): the rank
``p * (n - 1)`` is interpolated between the values of its two neighbouring ranks,
as ``percentile_cont`` does, each read as its bucket's value; so the result is
within ``RELATIVE_ERROR`` of the exact one. The views created by migrations 0016
and 0020 run the same SQL with ``now()``-based edges, and ``ops stats`` binds them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from masterops.db import latency_histogram as hist
from masterops.db import sql_time
from masterops.db.rollups import (
    API_METRICS,
    INTEGRATION_LOGS,
    WORKFLOW_EXECUTIONS,
    RollupSource,
    day_start,
    hour_start,
)
from masterops.db.types import time_param

_COUNTERS = ("calls", "errors", "duration_count", "duration_sum")


@dataclass(frozen=True)
class Window:
    """Where a window's rows come from: rollup tables (each with its condition on
    ``period_start``) and, for the first partial hour, a condition on raw rows."""

    rollups: Sequence[tuple[str, str]]
    raw_where: str | None = None
    extras: Mapping[str, str] = field(default_factory=dict)  # name -> row condition
    maxes: Sequence[str] = ()  # key columns carried along as their MAX over the group


def edges_window(
    source: RollupSource,
    since: str,
    hour_edge: str,
    day_edge: str,
    extras: Mapping[str, str] | None = None,
    maxes: Sequence[str] = (),
) -> Window:
    return Window(
        rollups=(
            (source.daily.name, f"period_start >= {day_edge}"),
            (source.hourly.name, f"period_start >= {hour_edge} AND period_start < {day_edge}"),
        ),
        raw_where=f"{source.time_column} >= {since} AND {source.time_column} < {hour_edge}",
        extras=extras or {},
        maxes=maxes,
    )


def _unpivot(dialect: str, group: str) -> str:
    """``group``, ``bucket`` and ``n`` for each non-zero bucket column of each ``agg`` row."""
    columns = ", ".join(hist.COLUMNS)
    if dialect == "postgresql":
        return (
            f"SELECT {group}, u.pos - 1 AS bucket, u.n FROM agg CROSS JOIN LATERAL"
            f" unnest(ARRAY[{columns}]) WITH ORDINALITY AS u(n, pos) WHERE u.n > 0"
        )
    # SQLite functions take at most 127 arguments: one json_array per 100 columns.
    parts = []
    for start in range(0, len(hist.COLUMNS), 100):
        chunk = ", ".join(hist.COLUMNS[start : start + 100])
        parts.append(
            f"SELECT {group}, u.key + {start} AS bucket, u.value AS n"
            f" FROM agg, json_each(json_array({chunk})) AS u WHERE u.value > 0"
        )
    return " UNION ALL ".join(parts)


def _floor(dialect: str, expr: str) -> str:
    return f"FLOOR({expr})" if dialect == "postgresql" else f"CAST({expr} AS INTEGER)"


def _sums(extras: Sequence[str], maxes: Sequence[str], buckets: Sequence[str]) -> list[str]:
    """The aggregates of a window's rows (or of sums of them): counters and buckets add,
    extremes and ``maxes`` take the larger or smaller."""
    return [
        *(f"SUM({c}) AS {c}" for c in _COUNTERS),
        "MIN(duration_min) AS duration_min",
        "MAX(duration_max) AS duration_max",
        "MAX(last_at) AS last_at",
        *extras,
        *(f"MAX({c}) AS {c}" for c in maxes),
        *(f"SUM({c}) AS {c}" for c in buckets),
    ]


def window_ctes(
    source: RollupSource,
    dialect: str,
    group: Sequence[str],
    window: Window,
    *,
    histogram: bool,
    percentile: float | None = None,
) -> str:
    """``WITH`` clauses defining ``totals`` (``group``, the counters, ``duration_min``,
    ``duration_max``, ``last_at`` and each extra) and, with ``histogram``, ``hist``
    (``group``, ``bucket``, ``n``) and, with ``percentile``, ``pct`` (``group``, ``p``)."""
    g = ", ".join(group)
    buckets = hist.COLUMNS if histogram else ()
    extra_sums = [
        f"SUM(CASE WHEN {cond} THEN calls ELSE 0 END) AS {name}"
        for name, cond in window.extras.items()
    ]
    agg_cols = _sums(extra_sums, window.maxes, buckets)
    # Each rollup table summed on its own, then the few sums: the wide rollup rows are
    # never copied into a temporary UNION (SQLite materialized it, a copy per row).
    segments = " UNION ALL ".join(
        f"SELECT {g}, {', '.join(agg_cols)} FROM {table} WHERE {where} GROUP BY {g}"
        for table, where in window.rollups
    )
    names = [*_COUNTERS, "duration_min", "duration_max", "last_at", *window.extras, *window.maxes]
    resum = _sums([f"SUM({name}) AS {name}" for name in window.extras], window.maxes, buckets)
    # Read once, then by each bucket's SELECT below: computed once, not per reference.
    materialized = "MATERIALIZED " if histogram else ""
    ctes = [
        f"r AS ({segments})",
        f"agg AS {materialized}(SELECT {g}, {', '.join(resum)} FROM r GROUP BY {g})",
    ]
    parts = [f"SELECT {g}, {', '.join(names)} FROM agg"]
    if window.raw_where is not None:
        key_cols = ", ".join(
            f"{sql} AS {key}" for sql, key in zip(source.key_sql, source.keys, strict=True)
        )
        bucket = f"CASE WHEN duration_ms IS NULL THEN -1 ELSE {hist.bucket_sql('duration_ms')} END"
        edge_sums = [
            f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS {name}"
            for name, cond in window.extras.items()
        ]
        edge_cols = [
            "COUNT(*) AS calls",
            "SUM(err) AS errors",
            "COUNT(duration_ms) AS duration_count",
            "COALESCE(SUM(duration_ms), 0) AS duration_sum",
            "MIN(duration_ms) AS duration_min",
            "MAX(duration_ms) AS duration_max",
            f"MAX({source.time_column}) AS last_at",
            *edge_sums,
            *(f"MAX({c}) AS {c}" for c in window.maxes),
        ]
        ctes.append(
            f"e AS (SELECT {g}, bucket, {', '.join(edge_cols)} FROM ("
            f"SELECT {key_cols}, {source.error_sql} AS err, duration_ms, {source.time_column},"
            f" {bucket if histogram else '0'} AS bucket"
            f" FROM {source.raw.name} WHERE {window.raw_where}) x GROUP BY {g}, bucket)"
        )
        parts.append(f"SELECT {g}, {', '.join(names)} FROM e")
    totals = _sums([f"SUM({name}) AS {name}" for name in window.extras], window.maxes, ())
    ctes.append(
        f"totals AS (SELECT {g}, {', '.join(totals)}"
        f" FROM ({' UNION ALL '.join(parts)}) t GROUP BY {g})"
    )
    if histogram:
        ctes.append(f"bv (bucket, v) AS ({hist.representative_values_sql()})")
        # Each group's bucket columns as rows: linear in the buckets, one FROM item.
        spread = [_unpivot(dialect, g)]
        if window.raw_where is not None:
            spread.append(f"SELECT {g}, bucket, duration_count AS n FROM e WHERE bucket >= 0")
        ctes.append(
            f"hist AS (SELECT {g}, bucket, SUM(n) AS n FROM ({' UNION ALL '.join(spread)}) u"
            f" GROUP BY {g}, bucket)"
        )
    if histogram and percentile is not None:
        p = float(percentile)
        ctes.append(
            f"ranked AS (SELECT {g}, bucket, n,"
            f" SUM(n) OVER (PARTITION BY {g} ORDER BY bucket ROWS UNBOUNDED PRECEDING) AS upto,"
            f" SUM(n) OVER (PARTITION BY {g}) AS total FROM hist)"
        )
        ctes.append(
            f"ranks AS (SELECT {g}, bucket, n, upto, total,"
            f" {_floor(dialect, f'{p!r} * (total - 1)')} AS lo FROM ranked)"
        )
        # The buckets of the two ranks first (one row per group), then their values.
        ctes.append(
            f"pct_ends AS (SELECT {g},"
            " MAX(CASE WHEN upto - n <= lo AND lo < upto THEN bucket END) AS lo_b,"
            " MAX(CASE WHEN upto - n <= lo + 1 AND lo + 1 < upto THEN bucket END) AS hi_b,"
            f" MAX({p!r} * (total - 1) - lo) AS frac FROM ranks GROUP BY {g})"
        )
        ctes.append(
            f"pct AS (SELECT {g}, CAST(lo_bv.v + (COALESCE(hi_bv.v, lo_bv.v) - lo_bv.v) * frac"
            " AS FLOAT) AS p FROM pct_ends JOIN bv lo_bv ON lo_bv.bucket = lo_b"
            " LEFT JOIN bv hi_bv ON hi_bv.bucket = hi_b)"
        )
    return "WITH " + ", ".join(ctes)


def _joined(group: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{right}.{c} = {left}.{c}" for c in group)


def api_performance_sql(dialect: str, since: str, hour_edge: str, day_edge: str) -> str:
    group = ("service", "endpoint")
    window = edges_window(API_METRICS, since, hour_edge, day_edge)
    ctes = window_ctes(API_METRICS, dialect, group, window, histogram=True, percentile=0.95)
    return (
        f"{ctes} SELECT t.service, t.endpoint, CAST(t.calls AS BIGINT) AS total_calls,"
        " CAST(t.errors AS BIGINT) AS error_count,"
        " CAST(t.duration_sum AS FLOAT) / NULLIF(t.duration_count, 0) AS avg_duration_ms,"
        " pct.p AS p95_duration_ms, t.duration_min AS min_duration_ms,"
        " t.duration_max AS max_duration_ms"
        f" FROM totals t LEFT JOIN pct ON {_joined(group, 't', 'pct')}"
    )


def integration_health_sql(dialect: str, since: str, hour_edge: str, day_edge: str) -> str:
    warnings = {"warnings": "level = 'warn'"}
    window = edges_window(INTEGRATION_LOGS, since, hour_edge, day_edge, warnings)
    ctes = window_ctes(INTEGRATION_LOGS, dialect, ("source",), window, histogram=False)
    return (
        f"{ctes} SELECT source, CAST(calls AS BIGINT) AS total_logs,"
        " CAST(errors AS BIGINT) AS error_count, CAST(warnings AS BIGINT) AS warning_count,"
        " ROUND(100.0 * errors / calls, 2) AS error_rate_pct, last_at AS last_activity"
        " FROM totals"
    )


def workflow_performance_sql(dialect: str, since: str, hour_edge: str, day_edge: str) -> str:
    group = ("workflow_id",)
    successes = {"successes": "status = 'success'"}
    window = edges_window(
        WORKFLOW_EXECUTIONS, since, hour_edge, day_edge, successes, maxes=("workflow_name",)
    )
    ctes = window_ctes(WORKFLOW_EXECUTIONS, dialect, group, window, histogram=True, percentile=0.95)
    return (
        f"{ctes} SELECT t.workflow_id, NULLIF(t.workflow_name, '') AS workflow_name,"
        " CAST(t.calls AS BIGINT) AS total_executions,"
        " CAST(t.successes AS BIGINT) AS successful_executions,"
        " CAST(t.errors AS BIGINT) AS failed_executions,"
        " ROUND(100.0 * t.successes / t.calls, 2) AS success_rate_pct,"
        " CAST(t.duration_sum AS FLOAT) / NULLIF(t.duration_count, 0) AS avg_duration_ms,"
        " pct.p AS p95_duration_ms, t.last_at AS last_execution_at"
        f" FROM totals t LEFT JOIN pct ON {_joined(group, 't', 'pct')}"
    )


ROLLED = {
    "integration_health_summary": integration_health_sql,
    "api_performance_summary": api_performance_sql,
    "workflow_performance_summary": workflow_performance_sql,
}


def rolled_view_sql(name: str, dialect: str) -> str:
    """The view: a fixed window back from ``now()``, edges computed in SQL."""
    hours = {
        "integration_health_summary": 24,
        "api_performance_summary": 24,
        "workflow_performance_summary": 24 * 7,
    }[name]
    since = sql_time.ago(dialect, hours)
    return ROLLED[name](
        dialect, since, sql_time.next_hour(dialect, since), sql_time.next_day(dialect, since)
    )


def window_params(since: datetime, dialect: str) -> dict[str, Any]:
    hour_edge = hour_start(since) + timedelta(hours=1)
    day_edge = day_start(since) + timedelta(days=1)
    return {
        "since": time_param(since, dialect),
        "hour_edge": time_param(hour_edge, dialect),
        "day_edge": time_param(day_edge, dialect),
    }


def run_rolled(conn: Connection, name: str, since: datetime) -> list[dict[str, Any]]:
    dialect = conn.dialect.name
    sql = ROLLED[name](dialect, ":since", ":hour_edge", ":day_edge")
    result = conn.execute(text(sql), window_params(since, dialect))
    return [dict(row._mapping) for row in result]
