"""``/api/v1/executions``: list (newest first, id cursor), read, delete, retry."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from masterops_sandbox.n8n.cursor import InvalidCursor, decode_cursor, encode_last_id_cursor
from masterops_sandbox.n8n.executor import retry
from masterops_sandbox.n8n.responses import NOT_FOUND, KeySource, guarded, message, ok
from masterops_sandbox.n8n.shapes import execution_json
from masterops_sandbox.n8n.store import JSON, Execution, N8nStore
from masterops_sandbox.n8n.validation import (
    ApiError,
    check_retry,
    execution_id,
    parse_query,
    read_json,
)

PREFIX = "/api/v1/executions"
LIST_QUERY = (
    ("includeData", "boolean"),
    ("status", "status"),
    ("workflowId", "string"),
    ("projectId", "string"),
    ("limit", "limit"),
    ("cursor", "string"),
)
DEFAULT_LIMIT = 100


def _matches(execution: Execution, status: str | None, workflow_id: str | None) -> bool:
    if execution.status == "waiting":
        # Paused at a Wait node, the real server holds it in memory, and no list shows
        # it: not unfiltered, not status=waiting, not by workflowId (seen on 1.123.81).
        # GET /executions/{id} still does.
        return False
    if workflow_id is not None and execution.workflow_id != workflow_id:
        return False
    if status is None:
        # Running executions are the live ones: the real list leaves them out unless asked.
        return execution.status != "running"
    if status == "error":
        return execution.status in ("error", "crashed")
    return execution.status == status


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class ExecutionRoutes:
    def __init__(self, store: N8nStore) -> None:
        self.store = store

    async def index(self, request: Request) -> Response:
        query = parse_query(request, LIST_QUERY)
        limit: int = query.get("limit", DEFAULT_LIMIT)
        last_id: int | None = None
        if "cursor" in query:
            try:
                cursor = decode_cursor(query["cursor"])
            except InvalidCursor as exc:
                raise ApiError(400, str(exc)) from exc
            limit = _int_or_none(cursor.get("limit")) or DEFAULT_LIMIT
            if "offset" not in cursor:
                last_id = _int_or_none(cursor.get("lastId"))
        workflow_id = query.get("workflowId")
        empty: JSON = {"data": [], "nextCursor": None}
        if workflow_id is not None and workflow_id not in self.store.workflows:
            return ok(empty)
        if "projectId" in query and query["projectId"] != self.store.project_id:
            return ok(empty)
        status = query.get("status")
        page: list[Execution] = []
        more = False
        for execution in self.store.iter_executions_desc(last_id):
            if not _matches(execution, status, workflow_id):
                continue
            if limit > 0 and len(page) >= limit:
                more = True
                break
            page.append(execution)
        include = bool(query.get("includeData"))
        data = [execution_json(self.store, e, include_data=include) for e in page]
        cursor_out = encode_last_id_cursor(
            last_id=str(page[-1].id) if page else "0", limit=limit, more=more
        )
        return ok({"data": data, "nextCursor": cursor_out})

    async def get(self, request: Request) -> Response:
        wanted = execution_id(request.path_params["id"])
        query = parse_query(request, (("includeData", "boolean"),))
        execution = self.store.executions.get(wanted) if wanted is not None else None
        if execution is None:
            return message(404, NOT_FOUND)
        return ok(
            execution_json(
                self.store, execution, view="get", include_data=bool(query.get("includeData"))
            )
        )

    async def delete(self, request: Request) -> Response:
        wanted = execution_id(request.path_params["id"])
        execution = self.store.executions.get(wanted) if wanted is not None else None
        if execution is None:
            return message(404, NOT_FOUND)
        if execution.status == "running":
            return message(400, "Cannot delete a running execution")
        self.store.delete_execution(execution.id)
        return ok(execution_json(self.store, execution, view="delete"))

    async def retry(self, request: Request) -> Response:
        wanted = execution_id(request.path_params["id"])
        load_workflow = check_retry(await read_json(request, required=False))
        if not self.store.workflows:
            # The real server first looks for workflows the key may run: none, plain 404.
            return message(404, NOT_FOUND)
        original = self.store.executions.get(wanted) if wanted is not None else None
        if original is None:
            shown = request.path_params["id"] if wanted is None else wanted
            return message(404, f'The execution with the ID "{shown}" does not exist.')
        if original.status == "new":
            return message(
                409,
                f'Execution "{wanted}" is queued and cannot be retried until it has started.',
            )
        if original.finished:
            return message(400, "The execution succeeded, so it cannot be retried.")
        result = retry(self.store, original, load_workflow=load_workflow)
        if result is None:
            return message(404, f'The execution with the ID "{wanted}" does not exist.')
        execution, outcome = result
        return ok(
            {
                "id": str(execution.id),
                "mode": execution.mode,
                "startedAt": execution_json(self.store, execution)["startedAt"],
                "workflowId": execution.workflow_id,
                "finished": execution.finished,
                "retryOf": original.id,  # a number here, unlike in lists: the real quirk
                "status": execution.status,
                "data": outcome.data,
                "workflowData": execution.workflow_data,
                "customData": {},
            }
        )


def execution_routes(store: N8nStore, api_key: KeySource) -> list[Route]:
    r = ExecutionRoutes(store)

    def route(path: str, handler: Any, method: str) -> Route:
        return Route(PREFIX + path, guarded(api_key, handler), methods=[method])

    return [
        route("", r.index, "GET"),
        route("/{id}", r.get, "GET"),
        route("/{id}", r.delete, "DELETE"),
        route("/{id}/retry", r.retry, "POST"),
    ]
