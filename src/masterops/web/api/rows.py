"""The API's own reads of ``api_metrics`` and ``workflow_execution_logs``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, case, func, select

from masterops.db.per_group import rows_by_group
from masterops.db.tables import api_metrics, workflow_execution_logs

FAILED = ("error", "crashed")  # as the workflow summaries count them


def api_metric_rows(
    conn: Connection,
    *,
    service: str | None,
    business_id: str | None,
    since: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    t = api_metrics
    stmt = select(t).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)
    if service is not None:
        stmt = stmt.where(t.c.service == service)
    if business_id is not None:
        stmt = stmt.where(t.c.business_id == business_id)
    if since is not None:
        stmt = stmt.where(t.c.created_at >= since)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _summary(since: datetime | None) -> Select[Any]:
    t = workflow_execution_logs
    failed = func.sum(case((t.c.status.in_(FAILED), 1), else_=0))
    stmt = select(
        t.c.workflow_id,
        func.max(t.c.workflow_name).label("workflow_name"),
        t.c.business_id,
        func.count().label("executions"),
        failed.label("failures"),
        func.max(t.c.started_at).label("last_started_at"),
    ).group_by(t.c.workflow_id, t.c.business_id)
    if since is not None:
        stmt = stmt.where(t.c.started_at >= since)
    return stmt


def _counted(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "failures": int(row["failures"] or 0), "executions": int(row["executions"])}


def workflow_summary(
    conn: Connection, business_id: str | None, since: datetime | None
) -> list[dict[str, Any]]:
    """One row per (workflow, business): executions, failures and the last start."""
    t = workflow_execution_logs
    stmt = _summary(since).order_by(t.c.workflow_id, t.c.business_id)
    if business_id is not None:
        stmt = stmt.where(t.c.business_id == business_id)
    return [_counted(dict(r._mapping)) for r in conn.execute(stmt)]


def workflow_summary_of(
    conn: Connection, business_ids: Collection[str], since: datetime | None
) -> dict[str, list[dict[str, Any]]]:
    """``workflow_summary`` of each business, in one statement: by business id."""
    t = workflow_execution_logs
    stmt = _summary(since).where(t.c.business_id.in_(business_ids))
    found = rows_by_group(conn, stmt, t.c.business_id, order_by=(t.c.workflow_id,))
    return {b: [_counted(r) for r in rows] for b, rows in found.items()}


_NEWEST_FAILURES = (
    workflow_execution_logs.c.started_at.desc(),
    workflow_execution_logs.c.id.desc(),
)


def _failures(since: datetime | None) -> Select[Any]:
    t = workflow_execution_logs
    stmt = select(
        t.c.id,
        t.c.workflow_id,
        t.c.workflow_name,
        t.c.business_id,
        t.c.instance,
        t.c.execution_id,
        t.c.status,
        t.c.started_at,
        t.c.finished_at,
        t.c.error_message,
        t.c.nodes_failed,
    ).where(t.c.status.in_(FAILED))
    if since is not None:
        stmt = stmt.where(t.c.started_at >= since)
    return stmt


def workflow_failures(
    conn: Connection, business_id: str | None, since: datetime | None, limit: int
) -> list[dict[str, Any]]:
    stmt = _failures(since).order_by(*_NEWEST_FAILURES).limit(limit)
    if business_id is not None:
        stmt = stmt.where(workflow_execution_logs.c.business_id == business_id)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def workflow_failures_of(
    conn: Connection, business_ids: Collection[str], since: datetime | None, limit: int
) -> dict[str, list[dict[str, Any]]]:
    """``workflow_failures`` of each business, in one statement: by business id."""
    t = workflow_execution_logs
    stmt = _failures(since).where(t.c.business_id.in_(business_ids))
    return rows_by_group(conn, stmt, t.c.business_id, order_by=_NEWEST_FAILURES, limit=limit)
