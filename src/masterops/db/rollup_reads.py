"""Reads of the API rollups beyond the views: daily (or hourly) trends per service, and
each service's calls, errors and latency histogram over a window (for the SLOs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, text

from masterops.db import latency_histogram as hist
from masterops.db.rollup_summaries import edges_window, window_ctes, window_params
from masterops.db.rollups import API_METRICS, day_start, hour_start
from masterops.db.types import time_param

Grain = Literal["daily", "hourly"]


def trend_sql(grain: Grain, businesses: int | None = None) -> str:
    """Per period and service: calls, errors and the summed histogram. With
    ``businesses``, only rows of ``:b0`` .. ``:b<n-1>``. The rollups hold the current
    day and hour up to the last row: no raw rows needed."""
    table = API_METRICS.daily if grain == "daily" else API_METRICS.hourly
    where = "period_start >= :start"
    if businesses is not None:
        where += f" AND business_id IN ({', '.join(f':b{i}' for i in range(businesses)) or 'NULL'})"
    sums = ", ".join(f"SUM({c})" for c in hist.COLUMNS)
    return (
        f"SELECT period_start, service, SUM(calls), SUM(errors), {sums} FROM {table.name}"
        f" WHERE {where} GROUP BY period_start, service ORDER BY period_start, service"
    )


def trend(
    conn: Connection,
    grain: Grain,
    days: int,
    now: datetime,
    businesses: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Calls, error rate and p95 per service per UTC day (or hour) of the last ``days``
    days, today (or this hour) included, oldest first; of some ``businesses`` only.

    The database sums; the percentile of each period's histogram is taken here (one
    pass over its buckets), which costs less than spreading hundreds of periods'
    buckets into rows and ranking them in SQL."""
    start = day_start(now) - timedelta(days=days - 1)
    if grain == "hourly":
        start = hour_start(now) - timedelta(hours=days * 24 - 1)
    dialect = conn.dialect.name
    params: dict[str, Any] = {"start": time_param(start, dialect)}
    count = None
    if businesses is not None:
        count = len(businesses)
        params.update({f"b{i}": b for i, b in enumerate(businesses)})
    rows = []
    for period, service, calls, errors, *counts in conn.execute(
        text(trend_sql(grain, count)), params
    ):
        rows.append(
            {
                "period_start": period,  # as the driver gives it, as before
                "service": service,
                "calls": int(calls),
                "errors": int(errors),
                "error_rate_pct": round(100.0 * int(errors) / int(calls), 2),
                "p95_duration_ms": hist.percentile(counts, 0.95),
            }
        )
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
