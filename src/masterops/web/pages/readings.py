"""What the dashboard's pages read, each limited to the businesses a token sees.

Every function takes ``businesses``: None for a token that sees every business, else the
list it is limited to (rows of no business, such as calls made for no business, are then
left out: they are nobody's to show).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    case,
    func,
    select,
    text,
)

from masterops.config import SERVICES
from masterops.db.rollup_reads import trend
from masterops.db.summaries import _p95  # the one p95 definition /stats uses too
from masterops.db.tables import (
    alert_history,
    api_metrics,
    health_checks,
    integration_logs,
    sync_runs,
    tasks,
    workflow_execution_logs,
)
from masterops.db.types import time_param
from masterops.sync.refusals import refused_counts, run_refusals, top_reasons
from masterops.web.api.rows import FAILED, workflow_summary

Businesses = Sequence[str] | None


def _only(column: Column[Any], businesses: Businesses) -> list[ColumnElement[bool]]:
    return [] if businesses is None else [column.in_(list(businesses))]


def p95(values: Sequence[float]) -> float | None:
    """The nearest-rank 95th percentile (None of nothing)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


# -- overview ----------------------------------------------------------------------------


def overview(
    conn: Connection, businesses: Businesses, now: datetime, stale_after_s: float
) -> dict[str, Any]:
    """The business x service matrix: the newest check (status, breaker, when), and the
    last 24 hours of calls (error rate, p95, last success)."""
    t = health_checks
    newest = (
        select(func.max(t.c.id))
        .where(*_only(t.c.business_id, businesses))
        .group_by(t.c.business_id, t.c.service)
        .scalar_subquery()
    )
    checks = {
        (r.business_id, r.service): r
        for r in conn.execute(
            select(
                t.c.business_id, t.c.service, t.c.status, t.c.breaker, t.c.message, t.c.checked_at
            ).where(t.c.id.in_(newest))
        )
    }
    m = api_metrics
    since = now - timedelta(hours=24)
    errors = func.sum(case((m.c.success.is_(True), 0), else_=1))
    stmt = (
        select(m.c.business_id, m.c.service, func.count().label("calls"), errors.label("errors"))
        .where(
            m.c.created_at >= since,
            m.c.business_id.is_not(None),
            *_only(m.c.business_id, businesses),
        )
        .group_by(m.c.business_id, m.c.service)
    )
    calls = {
        (r.business_id, r.service): (int(r.calls), int(r.errors or 0)) for r in conn.execute(stmt)
    }
    # The p95 as /api/v1/stats computes it, in the database: the matrix is polled, and a
    # day of calls can be a million rows.
    p95_sql = _p95(
        conn.dialect.name, "api_metrics", ("business_id", "service"), "created_at", ":since"
    )
    p95s = {
        (r.business_id, r.service): r.p95
        for r in conn.execute(text(p95_sql), {"since": time_param(since, conn.dialect.name)})
    }
    last_success = {
        (r.business_id, r.service): r.at
        for r in conn.execute(
            select(m.c.business_id, m.c.service, func.max(m.c.created_at).label("at"))
            .where(m.c.success.is_(True), *_only(m.c.business_id, businesses))
            .group_by(m.c.business_id, m.c.service)
        )
        if r.business_id is not None
    }
    # Only the three services' rows make the matrix (the platform's own checks, such as
    # its database, are not a business's).
    keys = {*checks, *calls, *last_success}
    names = sorted({b for b, s in keys if s in SERVICES})
    rows = []
    for business in names:
        cells = []
        for service in SERVICES:
            key = (business, service)
            check = checks.get(key)
            made, failed = calls.get(key, (0, 0))
            checked_at = check.checked_at if check is not None else None
            cells.append(
                {
                    "service": service,
                    "status": check.status if check is not None else "unknown",
                    "message": check.message if check is not None else "never checked",
                    "breaker": (check.breaker if check is not None else None) or "-",
                    "checked_at": checked_at,
                    "stale": checked_at is None
                    or (now - checked_at).total_seconds() > stale_after_s,
                    "calls": made,
                    "error_rate": failed / made if made else None,
                    "p95_ms": float(p95s[key]) if made and p95s.get(key) is not None else None,
                    "last_success": last_success.get(key),
                }
            )
        rows.append({"business": business, "cells": cells})
    return {"services": SERVICES, "rows": rows}


# -- integrations ------------------------------------------------------------------------


def call_series(
    conn: Connection, businesses: Businesses, now: datetime, hours: int = 24
) -> dict[str, Any]:
    """Calls, errors and p95 per service per hour over the last ``hours`` (the chart data:
    ``x`` are the hours' starts in Unix seconds, oldest first)."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    m = api_metrics
    stmt = select(m.c.service, m.c.success, m.c.duration_ms, m.c.created_at).where(
        m.c.created_at >= start,
        *_only(m.c.business_id, businesses),
    )
    buckets: dict[str, list[list[tuple[bool, float]]]] = {}
    for r in conn.execute(stmt):
        hour = int((r.created_at - start).total_seconds() // 3600)
        if not 0 <= hour < hours:
            continue
        per_hour = buckets.setdefault(r.service, [[] for _ in range(hours)])
        per_hour[hour].append((bool(r.success), float(r.duration_ms)))
    series = {}
    for service in sorted(buckets):
        per_hour = buckets[service]
        series[service] = {
            "calls": [len(h) for h in per_hour],
            "errors": [sum(1 for ok, _ in h if not ok) for h in per_hour],
            "p95_ms": [p95([d for _, d in h]) for h in per_hour],
        }
    x = [int((start + timedelta(hours=i)).timestamp()) for i in range(hours)]
    return {"x": x, "unit": "h", "services": series}


def daily_series(
    conn: Connection, businesses: Businesses, now: datetime, days: int = 30
) -> dict[str, Any]:
    """The same per UTC day over the last ``days`` days (today included), from the daily
    rollups (p95 from their histogram, within 4.8 %)."""
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=days - 1)
    rows = trend(conn, "daily", days, now, None if businesses is None else sorted(businesses))
    series: dict[str, dict[str, list[Any]]] = {}
    for row in rows:
        at = row["period_start"]
        at = datetime.fromisoformat(at).replace(tzinfo=UTC) if isinstance(at, str) else at
        day = (at - start).days
        if not 0 <= day < days:
            continue
        one = series.setdefault(
            row["service"], {"calls": [0] * days, "errors": [0] * days, "p95_ms": [None] * days}
        )
        one["calls"][day] = row["calls"]
        one["errors"][day] = row["errors"]
        one["p95_ms"][day] = row["p95_duration_ms"]
    x = [int((start + timedelta(days=i)).timestamp()) for i in range(days)]
    return {"x": x, "unit": "day", "services": dict(sorted(series.items()))}


# -- syncs -------------------------------------------------------------------------------


def runs(conn: Connection, businesses: Businesses, limit: int = 30) -> list[dict[str, Any]]:
    t = sync_runs
    stmt = (
        select(t)
        .where(*_only(t.c.business_id, businesses))
        .order_by(t.c.started_at.desc(), t.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def refusals(
    conn: Connection, run_ids: Iterable[int], *, examples: int = 5
) -> dict[int, dict[str, Any]]:
    """Per run that refused items: how many, its most frequent reasons with their
    counts, and its first few items (``ops sync show`` lists them all)."""
    counts = refused_counts(conn, list(run_ids))
    reasons = top_reasons(conn, list(counts), per_run=3)
    return {
        run_id: {
            "count": count,
            "reasons": reasons.get(run_id, []),
            "items": run_refusals(conn, run_id, limit=examples),
        }
        for run_id, count in counts.items()
    }


# -- workflows, alerts, tasks, logs ------------------------------------------------------


def workflows(conn: Connection, businesses: Businesses, since: datetime) -> dict[str, Any]:
    scopes: list[str | None] = [None] if businesses is None else list(businesses)
    summary = [row for b in scopes for row in workflow_summary(conn, b, since)]
    for row in summary:
        row["success_rate"] = (
            (row["executions"] - row["failures"]) / row["executions"] if row["executions"] else None
        )
    t = workflow_execution_logs
    stmt = (
        select(
            t.c.workflow_id,
            t.c.workflow_name,
            t.c.business_id,
            t.c.execution_id,
            t.c.started_at,
            t.c.error_message,
            t.c.error_details_json,
        )
        .where(t.c.status.in_(FAILED), t.c.started_at >= since, *_only(t.c.business_id, businesses))
        .order_by(t.c.started_at.desc(), t.c.id.desc())
        .limit(50)
    )
    failures = []
    for r in conn.execute(stmt):
        row = dict(r._mapping)
        details = row.pop("error_details_json")
        # As the executions sync stores them: {"node": ..., "message": ...}.
        row["node"] = details.get("node") if isinstance(details, dict) else None
        failures.append(row)
    return {"summary": summary, "failures": failures}


def alerts(conn: Connection, businesses: Businesses, limit: int = 100) -> list[dict[str, Any]]:
    t = alert_history
    stmt = select(t).where(*_only(t.c.business_id, businesses)).order_by(t.c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def task_list(conn: Connection, businesses: Businesses, limit: int = 100) -> list[dict[str, Any]]:
    t = tasks
    stmt = (
        select(t)
        .where(*_only(t.c.business, businesses))
        .order_by((t.c.status == "completed"), t.c.priority, t.c.created_at.desc(), t.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


LOG_LEVELS = ("debug", "info", "warn", "error")


def log_lines(
    conn: Connection,
    businesses: Businesses,
    *,
    business: str | None,
    service: str | None,
    level: str | None,
    after_id: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Log lines, oldest first: the newest ``limit`` (after_id None), or those after
    ``after_id``. ``level`` is a minimum (warn shows warn and error)."""
    t = integration_logs
    where = [*_only(t.c.business_id, businesses)]
    if business:
        where.append(t.c.business_id == business)
    if service:
        where.append(t.c.service == service)
    if level in LOG_LEVELS:
        where.append(t.c.level.in_(LOG_LEVELS[LOG_LEVELS.index(level) :]))
    columns = (
        t.c.id,
        t.c.created_at,
        t.c.level,
        t.c.business_id,
        t.c.service,
        t.c.source,
        t.c.operation,
        t.c.message,
    )
    if after_id is None:
        stmt = select(*columns).where(*where).order_by(t.c.id.desc()).limit(limit)
        return [dict(r._mapping) for r in conn.execute(stmt)][::-1]
    stmt = select(*columns).where(t.c.id > after_id, *where).order_by(t.c.id).limit(limit)
    return [dict(r._mapping) for r in conn.execute(stmt)]
