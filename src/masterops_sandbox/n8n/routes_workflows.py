"""``/api/v1/workflows``: list, create, read, update, delete, (de)activate, tags, versions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from masterops_sandbox.n8n.cursor import InvalidCursor, decode_cursor, encode_offset_cursor
from masterops_sandbox.n8n.responses import NOT_FOUND, KeySource, guarded, message, ok
from masterops_sandbox.n8n.shapes import tag_json, version_json, workflow_json
from masterops_sandbox.n8n.store import ActivationError, N8nStore, Workflow
from masterops_sandbox.n8n.validation import (
    ApiError,
    check_tag_ids,
    check_workflow,
    parse_query,
    read_json,
)

PREFIX = "/api/v1/workflows"
LIST_QUERY = (
    ("active", "boolean"),
    ("tags", "string"),
    ("name", "string"),
    ("projectId", "string"),
    ("excludePinnedData", "boolean"),
    ("limit", "limit"),
    ("cursor", "string"),
)
DEFAULT_LIMIT = 100
_ACTION_PATHS = {"activate", "deactivate", "transfer"}


def offset_page(query: dict[str, Any]) -> tuple[int, int]:
    """(offset, limit) from ``limit`` and ``cursor``; a cursor's own limit wins, as in n8n."""
    offset, limit = 0, query.get("limit", DEFAULT_LIMIT)
    if "cursor" in query:
        try:
            cursor = decode_cursor(query["cursor"])
        except InvalidCursor as exc:
            raise ApiError(400, str(exc)) from exc
        offset = _int_or(cursor.get("offset"), 0)
        limit = _int_or(cursor.get("limit"), DEFAULT_LIMIT)
    return offset, limit


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def page_slice(items: list[Any], offset: int, limit: int) -> list[Any]:
    # A limit of 0 (or below) means "no limit" to the real server's ORM.
    start = max(offset, 0)
    return items[start:] if limit <= 0 else items[start : start + limit]


class WorkflowRoutes:
    def __init__(self, store: N8nStore) -> None:
        self.store = store

    def _find(self, request: Request) -> Workflow | None:
        return self.store.workflows.get(request.path_params["id"])

    async def index(self, request: Request) -> Response:
        query = parse_query(request, LIST_QUERY)
        offset, limit = offset_page(query)
        workflows = self._filtered(query)
        payload = []
        for wf in page_slice(workflows, offset, limit):
            shown = workflow_json(self.store, wf, "list")
            if query.get("excludePinnedData"):
                shown.pop("pinData", None)
            payload.append(shown)
        cursor = encode_offset_cursor(offset=offset, limit=limit, total=len(workflows))
        return ok({"data": payload, "nextCursor": cursor})

    def _filtered(self, query: dict[str, Any]) -> list[Workflow]:
        workflows = self.store.sorted_workflows()
        if "active" in query:
            workflows = [w for w in workflows if w.active == query["active"]]
        if "name" in query:
            # SQL LIKE '%name%' on SQLite: case-insensitive containment.
            needle = str(query["name"]).strip().lower()
            workflows = [w for w in workflows if needle in w.name.lower()]
        if "tags" in query:
            names = {n.strip() for n in str(query["tags"]).split(",")}
            tags = [t for t in self.store.tags.values() if t.name in names]
            # A workflow must carry every named tag that exists (n8n intersects per tag).
            workflows = [w for w in workflows if tags and all(t.id in w.tag_ids for t in tags)]
        if "projectId" in query and query["projectId"] != self.store.project_id:
            workflows = []
        return workflows

    async def create(self, request: Request) -> Response:
        body = check_workflow(await read_json(request))
        wf = self.store.create_workflow(
            body["name"],
            body["nodes"],
            body["connections"],
            body["settings"],
            body.get("staticData"),
        )
        return ok(workflow_json(self.store, wf, "create"))

    async def get(self, request: Request) -> Response:
        query = parse_query(request, (("excludePinnedData", "boolean"),))
        wf = self._find(request)
        if wf is None:
            return message(404, NOT_FOUND)
        shown = workflow_json(self.store, wf, "get")
        if query.get("excludePinnedData"):
            shown.pop("pinData", None)
        return ok(shown)

    async def update(self, request: Request) -> Response:
        body = check_workflow(await read_json(request))
        wf = self._find(request)
        if wf is None:
            return message(404, NOT_FOUND)
        try:
            self.store.update_workflow(
                wf,
                name=body["name"],
                nodes=body["nodes"],
                connections=body["connections"],
                settings=body["settings"],
                static_data=body.get("staticData", wf.static_data),
            )
        except ActivationError as exc:
            return message(400, str(exc))
        return ok(workflow_json(self.store, wf, "update"))

    async def delete(self, request: Request) -> Response:
        wf = self._find(request)
        if wf is None:
            return message(404, NOT_FOUND)
        shown = workflow_json(self.store, wf, "delete")
        self.store.delete_workflow(wf.id)
        return ok(shown)

    async def activate(self, request: Request) -> Response:
        await read_json(request, required=False)  # versionId/name/description: accepted, unused
        wf = self._find(request)
        if wf is None:
            return message(404, NOT_FOUND)
        triggers, counter, was_active = wf.trigger_count, wf.version_counter, wf.active
        try:
            self.store.activate(wf)
        except ActivationError as exc:
            return message(400, str(exc))
        shown = workflow_json(self.store, wf, "activate")
        # The real answer is built before the trigger count (a second save) is stored.
        shown["triggerCount"] = triggers
        shown["versionCounter"] = counter if was_active else counter + 1
        return ok(shown)

    async def deactivate(self, request: Request) -> Response:
        wf = self._find(request)
        if wf is None:
            return message(404, NOT_FOUND)
        self.store.deactivate(wf)
        return ok(workflow_json(self.store, wf, "deactivate"))

    async def get_tags(self, request: Request) -> Response:
        wf = self._find(request)
        if wf is None:
            return message(404, NOT_FOUND)
        return ok([tag_json(t) for t in self.store.workflow_tags(wf)])

    async def put_tags(self, request: Request) -> Response:
        ids = check_tag_ids(await read_json(request))
        wf = self._find(request)
        if wf is None:
            return message(404, NOT_FOUND)
        try:
            self.store.set_workflow_tags(wf, ids)
        except KeyError:
            return message(404, "Some tags not found")
        return ok([tag_json(t) for t in self.store.workflow_tags(wf)])

    async def version(self, request: Request) -> Response:
        if request.path_params["version_id"] in _ACTION_PATHS:
            # /workflows/{id}/activate exists for another method: Express says 405 first.
            return message(405, f"{request.method} method not allowed")
        wf = self._find(request)
        shown = version_json(wf, request.path_params["version_id"]) if wf else None
        if shown is None:
            return message(404, "Version not found")
        return ok(shown)


def workflow_routes(store: N8nStore, api_key: KeySource) -> list[Route]:
    r = WorkflowRoutes(store)

    def route(path: str, handler: Any, method: str) -> Route:
        return Route(PREFIX + path, guarded(api_key, handler), methods=[method])

    # Order matters: the fixed sub-paths must win over /{id}/{version_id}.
    return [
        route("", r.index, "GET"),
        route("", r.create, "POST"),
        route("/{id}", r.get, "GET"),
        route("/{id}", r.update, "PUT"),
        route("/{id}", r.delete, "DELETE"),
        route("/{id}/activate", r.activate, "POST"),
        route("/{id}/deactivate", r.deactivate, "POST"),
        route("/{id}/tags", r.get_tags, "GET"),
        route("/{id}/tags", r.put_tags, "PUT"),
        route("/{id}/{version_id}", r.version, "GET"),
    ]
