"""Reads of the API rollups beyond the views: daily (or hourly) trends per service, and
each service's calls, errors and latency histogram over a window (for the SLOs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, text

from masterops.db import latency_histogram as hist
from masterops.db.rollup_summaries import Window, edges_window, window_ctes, window_params
from masterops.db.rollups import API_METRICS, day_start, hour_start
from masterops.db.types import time_param

Grain = Literal["daily", "hourly"]


def trend_sql(dialect: str, grain: Grain, businesses: int | None = None) -> str:
    """With ``businesses``, only rows of ``:b0`` .. ``:b<n-1>``."""
    table = API_METRICS.daily if grain == "daily" else API_METRICS.hourly
    group = ("period_start", "service")
    where = "period_start >= :start"
    if businesses is not None:
        where += f" AND business_id IN ({', '.join(f':b{i}' for i in range(businesses)) or 'NULL'})"
    # The rollups hold the current day and hour up to the last row: no raw rows needed.
    window = Window(rollups=((table.name, where),))
    ctes = window_ctes(API_METRICS, dialect, group, window, histogram=True, percentile=0.95)
    return (
        f"{ctes} SELECT t.period_start, t.service, CAST(t.calls AS BIGINT) AS calls,"
        " CAST(t.errors AS BIGINT) AS errors,"
        " ROUND(100.0 * t.errors / t.calls, 2) AS error_rate_pct,"
        " pct.p AS p95_duration_ms FROM totals t LEFT JOIN pct"
        " ON pct.period_start = t.period_start AND pct.service = t.service"
        " ORDER BY t.period_start, t.service"
    )


def trend(
    conn: Connection,
    grain: Grain,
    days: int,
    now: datetime,
    businesses: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Calls, error rate and p95 per service per UTC day (or hour) of the last ``days``
    days, today (or this hour) included, oldest first; of some ``businesses`` only."""
    start = day_start(now) - timedelta(days=days - 1)
    if grain == "hourly":
        start = hour_start(now) - timedelta(hours=days * 24 - 1)
    dialect = conn.dialect.name
    params: dict[str, Any] = {"start": time_param(start, dialect)}
    count = None
    if businesses is not None:
        count = len(businesses)
        params.update({f"b{i}": b for i, b in enumerate(businesses)})
    result = conn.execute(text(trend_sql(dialect, grain, count)), params)
    rows = []
    for row in result:
        item = dict(row._mapping)
        item["error_rate_pct"] = float(item["error_rate_pct"])
        rows.append(item)
    return rows


@dataclass(frozen=True)
class ServiceWindow:
    calls: int
    errors: int
    buckets: tuple[int, ...]  # calls per histogram bucket

    def calls_under(self, latency_ms: float) -> int:
        """Calls whose whole bucket lies under ``latency_ms`` (never over-counted)."""
        return sum(
            n for n, upper in zip(self.buckets, hist.BOUNDS, strict=False) if upper <= latency_ms
        )


def service_windows(conn: Connection, since: datetime) -> dict[str, ServiceWindow]:
    """Per service, its API calls since ``since`` (to now): rollups plus the partial hour."""
    dialect = conn.dialect.name
    window = edges_window(API_METRICS, ":since", ":hour_edge", ":day_edge")
    ctes = window_ctes(API_METRICS, dialect, ("service",), window, histogram=True)
    params = window_params(since, dialect)
    # One statement: each service's totals, with its non-empty buckets (if any).
    sql = (
        f"{ctes} SELECT t.service, t.calls, t.errors, h.bucket, h.n"
        " FROM totals t LEFT JOIN hist h ON h.service = t.service"
    )
    found: dict[str, tuple[int, int, list[int]]] = {}
    for service, calls, errors, bucket, n in conn.execute(text(sql), params):
        entry = found.setdefault(service, (int(calls), int(errors), [0] * hist.BUCKETS))
        if bucket is not None:
            entry[2][int(bucket)] += int(n)
    return {
        service: ServiceWindow(calls, errors, tuple(buckets))
        for service, (calls, errors, buckets) in found.items()
    }
