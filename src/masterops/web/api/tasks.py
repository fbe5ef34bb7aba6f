"""Tasks and their logs: read with a read token, created and changed with operate.

A token limited to some businesses sees and changes only tasks of those businesses
(another's task is a 404, as if it did not exist), and every task it creates must name
one of them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from masterops.db.api_tokens import TokenGrant
from masterops.tasks import store
from masterops.web.api.common import MAX_ROWS, Operator, Reader, RowId, read
from masterops.web.auth import forbidden, visible_businesses
from masterops.web.responses import JSON, BadRequest

router = APIRouter()
TaskId = RowId
Status = Literal[
    "pending",
    "in_progress",
    "blocked",
    "awaiting_review",
    "failed",
    "needs_fix",
    "completed",
    "cancelled",
]


class Body(BaseModel):
    """A JSON body: no field but those declared, and no NUL in any text (no database
    text column can hold one)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain a NUL character")
        return value


class NewTask(Body):
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=10_000)
    business: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, max_length=64)
    priority: int = Field(default=3, ge=1, le=5)
    plan: list[Annotated[str, Field(max_length=1000)]] | None = Field(default=None, max_length=100)
    assigned_to: str | None = Field(default=None, max_length=100)


class TaskChanges(Body):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=10_000)
    category: str | None = Field(default=None, max_length=64)
    priority: int | None = Field(default=None, ge=1, le=5)
    status: Status | None = None
    assigned_to: str | None = Field(default=None, max_length=100)
    completion_notes: str | None = Field(default=None, max_length=10_000)
    error_message: str | None = Field(default=None, max_length=10_000)


class NewTaskLog(Body):
    message: str = Field(min_length=1, max_length=10_000)
    level: Literal["debug", "info", "warn", "error"] = "info"


def _visible_task(conn: Connection, grant: TokenGrant, task_id: int) -> dict[str, Any]:
    try:
        task = store.get_task(conn, task_id)
    except store.TaskError:
        task = None
    if task is None or not grant.sees(task["business"]):
        raise BadRequest(f"no task with id {task_id}", status=404, code="not_found")
    return task


async def _write(request: Request, writer: Any, status: int = 200) -> JSON:
    def run() -> Any:
        with request.app.state.engine.begin() as conn:
            try:
                return writer(conn)
            except store.TaskError as exc:
                raise BadRequest(str(exc)) from None

    return JSON(await run_in_threadpool(run), status_code=status)


@router.get("/tasks", summary="Tasks, highest priority first")
async def list_tasks(
    request: Request,
    grant: Reader,
    status: Status | None = None,
    business: Annotated[str | None, Query(max_length=64)] = None,
    category: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 50,
) -> JSON:
    businesses = visible_businesses(grant, business)

    def reader(conn: Connection) -> dict[str, Any]:
        parts = [
            store.list_tasks(conn, status=status, business=b, category=category, limit=limit)
            for b in businesses
        ]
        rows = [row for part in parts for row in part]
        # As list_tasks orders them: highest priority first, then newest.
        rows.sort(key=lambda r: -r["created_at"].timestamp())
        rows.sort(key=lambda r: r["priority"])
        rows = rows[:limit]
        return {"count": len(rows), "tasks": rows}

    return await read(request, reader)


@router.get("/tasks/{task_id}", summary="One task")
async def get_task(request: Request, grant: Reader, task_id: TaskId) -> JSON:
    return await read(request, lambda conn: _visible_task(conn, grant, task_id))


@router.get("/tasks/{task_id}/logs", summary="A task's log, oldest first")
async def task_logs(
    request: Request,
    grant: Reader,
    task_id: TaskId,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 100,
) -> JSON:
    def reader(conn: Connection) -> dict[str, Any]:
        _visible_task(conn, grant, task_id)
        rows = store.task_logs_for(conn, task_id, limit)
        return {"count": len(rows), "logs": rows}

    return await read(request, reader)


@router.post("/tasks", status_code=201, summary="Add a task (operate)")
async def add_task(request: Request, grant: Operator, task: NewTask) -> JSON:
    if not grant.sees(task.business):
        raise forbidden(
            "business_not_allowed",
            f"token {grant.name!r} may only add tasks of {', '.join(grant.businesses or ())}",
        )

    def writer(conn: Connection) -> dict[str, Any]:
        values = task.model_dump()
        task_id = store.add_task(conn, values.pop("title"), **values)
        return store.get_task(conn, task_id)

    return await _write(request, writer, status=201)


@router.patch("/tasks/{task_id}", summary="Change a task (operate)")
async def update_task(
    request: Request, grant: Operator, task_id: TaskId, changes: TaskChanges
) -> JSON:
    def writer(conn: Connection) -> dict[str, Any]:
        _visible_task(conn, grant, task_id)
        return store.update_task(conn, task_id, changes.model_dump(exclude_unset=True))

    return await _write(request, writer)


@router.post("/tasks/{task_id}/logs", status_code=201, summary="Log on a task (operate)")
async def add_task_log(
    request: Request, grant: Operator, task_id: TaskId, entry: NewTaskLog
) -> JSON:
    def writer(conn: Connection) -> dict[str, Any]:
        _visible_task(conn, grant, task_id)
        log_id = store.add_log(conn, task_id, entry.message, level=entry.level, source="api")
        return {"id": log_id, "task_id": task_id}

    return await _write(request, writer, status=201)
