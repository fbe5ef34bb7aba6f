"""Tasks and their logs: add, list, show, update, log, and which failed tasks may retry."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from masterops.db.tables import task_logs, tasks

STATUSES = (
    "pending",
    "in_progress",
    "blocked",
    "awaiting_review",
    "failed",
    "needs_fix",
    "completed",
    "cancelled",
)
FINISHED = ("completed", "cancelled")
EDITABLE = (
    "title",
    "description",
    "business",
    "category",
    "priority",
    "status",
    "plan_json",
    "current_step",
    "assigned_to",
    "completion_notes",
    "error_message",
    "next_action_after",
    "max_retries",
)


class TaskError(ValueError):
    """A task request that cannot be done; the message says why."""


def _now() -> datetime:
    return datetime.now(UTC)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise TaskError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")


def _check_priority(priority: int) -> None:
    if not 1 <= priority <= 5:
        raise TaskError(f"priority must be 1 (highest) to 5 (lowest), got {priority}")


def add_task(
    conn: Connection,
    title: str,
    *,
    description: str | None = None,
    business: str | None = None,
    category: str | None = None,
    priority: int = 3,
    plan: list[str] | None = None,
    assigned_to: str | None = None,
    max_retries: int = 3,
) -> int:
    if not title.strip():
        raise TaskError("a task needs a title")
    _check_priority(priority)
    now = _now()
    task_id = conn.execute(
        insert(tasks)
        .values(
            title=title.strip(),
            description=description,
            business=business,
            category=category,
            priority=priority,
            status="pending",
            plan_json=plan,
            current_step=0,
            retry_count=0,
            max_retries=max_retries,
            assigned_to=assigned_to,
            created_at=now,
            updated_at=now,
        )
        .returning(tasks.c.id)
    ).scalar_one()
    add_log(conn, int(task_id), "task created", status="pending")
    return int(task_id)


def get_task(conn: Connection, task_id: int) -> dict[str, Any]:
    row = conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
    if row is None:
        raise TaskError(f"no task with id {task_id}")
    return dict(row._mapping)


def list_tasks(
    conn: Connection,
    *,
    status: str | None = None,
    business: str | None = None,
    category: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    stmt = select(tasks)
    if status:
        _check_status(status)
        stmt = stmt.where(tasks.c.status == status)
    if business:
        stmt = stmt.where(tasks.c.business == business)
    if category:
        stmt = stmt.where(tasks.c.category == category)
    stmt = stmt.order_by(tasks.c.priority, tasks.c.created_at.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def update_task(conn: Connection, task_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change fields of a task; status changes stamp started/completed times and are logged."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise TaskError(f"cannot change {', '.join(unknown)}; editable: {', '.join(EDITABLE)}")
    current = get_task(conn, task_id)
    values = dict(changes)
    now = _now()
    if "priority" in values:
        _check_priority(int(values["priority"]))
    status = values.get("status")
    if status is not None:
        _check_status(status)
        if status == "in_progress" and current["started_at"] is None:
            values["started_at"] = now
        if status in FINISHED:
            values["completed_at"] = now
        if status == "failed":
            values["retry_count"] = current["retry_count"] + 1
            values.setdefault(
                "next_action_after", now + backoff_after_failure(values["retry_count"])
            )
    values["updated_at"] = now
    conn.execute(update(tasks).where(tasks.c.id == task_id).values(**values))
    if status is not None and status != current["status"]:
        add_log(conn, task_id, f"status {current['status']} -> {status}", status=status)
    return get_task(conn, task_id)


def add_log(
    conn: Connection,
    task_id: int,
    message: str,
    *,
    level: str = "info",
    status: str | None = None,
    source: str = "cli",
    details: Mapping[str, Any] | None = None,
) -> int:
    if level not in ("debug", "info", "warn", "error"):
        raise TaskError(f"log level must be debug, info, warn or error, got {level!r}")
    exists = conn.execute(select(func.count()).where(tasks.c.id == task_id)).scalar_one()
    if not exists:
        raise TaskError(f"no task with id {task_id}")
    return int(
        conn.execute(
            insert(task_logs)
            .values(
                task_id=task_id,
                source=source,
                level=level,
                status=status,
                message=message,
                details_json=dict(details) if details else None,
                created_at=_now(),
            )
            .returning(task_logs.c.id)
        ).scalar_one()
    )


def task_logs_for(conn: Connection, task_id: int, limit: int = 100) -> list[dict[str, Any]]:
    stmt = (
        select(task_logs)
        .where(task_logs.c.task_id == task_id)
        .order_by(task_logs.c.created_at, task_logs.c.id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def retryable_tasks(conn: Connection, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Failed or needs-fix tasks with retries left whose next action time has come."""
    now = now or _now()
    stmt = (
        select(tasks)
        .where(
            tasks.c.status.in_(("failed", "needs_fix")),
            tasks.c.retry_count < tasks.c.max_retries,
            or_(tasks.c.next_action_after.is_(None), tasks.c.next_action_after <= now),
        )
        .order_by(tasks.c.priority, tasks.c.updated_at)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def backoff_after_failure(retry_count: int, base: timedelta = timedelta(minutes=5)) -> timedelta:
    """How long a failed task waits before it is retryable again (doubling, capped at a day)."""
    delay: timedelta = base * (2 ** max(0, retry_count - 1))
    return min(delay, timedelta(days=1))
