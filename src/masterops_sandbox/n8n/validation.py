"""Request checks with the real server's messages.

n8n validates its public API against its OpenAPI document (express-openapi-validator
and AJV) and answers the first problem as ``400 {"message": "request/..."}``. These
functions reproduce the checks and the wording for the parts of the document the
sandbox serves; the wording was copied from a running n8n 1.123.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request

JSON = dict[str, Any]
MAX_LIMIT = 250
EXECUTION_STATUS_FILTER = ("canceled", "error", "running", "success", "waiting")


class ApiError(Exception):
    """An answer other than 200: status and the ``message`` of the JSON body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BadJson(Exception):
    """The body claims to be JSON and is not; the real server answers a 500 HTML page."""


# -- query parameters ------------------------------------------------------------------

# kinds: "limit", "boolean", "string", "status"
QuerySpec = Sequence[tuple[str, str]]


def parse_query(request: Request, spec: QuerySpec) -> JSON:
    """The query parameters checked in the document's order; unknown names are refused."""
    known = {name for name, _ in spec}
    values: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name not in known:
            raise ApiError(400, f"Unknown query parameter '{name}'")
        values.setdefault(name, []).append(value)
    out: JSON = {}
    for name, kind in spec:
        if name not in values:
            continue
        raw = values[name]
        if any(v == "" for v in raw):
            raise ApiError(400, f"Empty value found for query parameter '{name}'")
        expected = {"limit": "number", "boolean": "boolean"}.get(kind, "string")
        if len(raw) > 1:
            raise ApiError(400, f"request/query/{name} must be {expected}")
        out[name] = _query_value(name, kind, raw[0])
    return out


def _query_value(name: str, kind: str, value: str) -> Any:
    if kind == "limit":
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isnan(number) or math.isinf(number):
            raise ApiError(400, f"request/query/{name} must be number")
        if number > MAX_LIMIT:
            raise ApiError(400, f"request/query/{name} must be <= {MAX_LIMIT}")
        if not number.is_integer():
            # The real server passes it to SQLite, which refuses it with this message.
            raise ApiError(400, "SQLITE_MISMATCH: datatype mismatch")
        return int(number)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ApiError(400, f"request/query/{name} must be boolean")
        return value == "true"
    if kind == "status" and value not in EXECUTION_STATUS_FILTER:
        allowed = ", ".join(EXECUTION_STATUS_FILTER)
        raise ApiError(
            400, f"request/query/{name} must be equal to one of the allowed values: {allowed}"
        )
    return value


def execution_id(raw: str) -> int | None:
    """A path id of an execution: the document says number (400 otherwise). A number that
    is not a whole one passes validation and then finds nothing: None."""
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if math.isnan(number):
        raise ApiError(400, "request/params/id must be number")
    return int(number) if number.is_integer() and not math.isinf(number) else None


# -- bodies ----------------------------------------------------------------------------


async def read_json(request: Request, *, required: bool = True) -> Any:
    """The JSON body; 415 for another media type, ``BadJson`` when it does not parse."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not raw:
        return {} if required else None
    if content_type and content_type != "application/json":
        raise ApiError(415, f"unsupported media type {content_type}")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadJson(str(exc)) from exc


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}

NODE_FIELDS: dict[str, str] = {
    "id": "string",
    "name": "string",
    "webhookId": "string",
    "disabled": "boolean",
    "notesInFlow": "boolean",
    "notes": "string",
    "type": "string",
    "typeVersion": "number",
    "executeOnce": "boolean",
    "alwaysOutputData": "boolean",
    "retryOnFail": "boolean",
    "maxTries": "number",
    "waitBetweenTries": "number",
    "continueOnFail": "boolean",
    "onError": "string",
    "position": "array",
    "parameters": "object",
    "credentials": "object",
    "createdAt": "readonly",
    "updatedAt": "readonly",
}

SETTINGS_FIELDS: dict[str, str | tuple[str, ...]] = {
    "saveExecutionProgress": "boolean",
    "saveManualExecutions": "boolean",
    "saveDataErrorExecution": ("all", "none"),
    "saveDataSuccessExecution": ("all", "none"),
    "executionTimeout": "number",
    "errorWorkflow": "string",
    "timezone": "string",
    "executionOrder": "string",
    "callerPolicy": ("any", "none", "workflowsFromAList", "workflowsFromSameOwner"),
    "callerIds": "string",
    "timeSavedPerExecution": "number",
    "availableInMCP": "boolean",
}

# The workflow schema's properties in the document's order ("readonly" ones refuse input).
WORKFLOW_FIELDS: dict[str, str] = {
    "id": "readonly",
    "name": "string",
    "active": "readonly",
    "createdAt": "readonly",
    "updatedAt": "readonly",
    "nodes": "nodes",
    "connections": "object",
    "settings": "settings",
    "staticData": "staticData",
    "tags": "readonly",
    "shared": "array",
    "activeVersion": "object",
}
WORKFLOW_REQUIRED = ("name", "nodes", "connections", "settings")


def _check_object(
    body: Any, where: str, fields: dict[str, Any], required: Sequence[str] = ()
) -> JSON:
    if not isinstance(body, dict):
        raise ApiError(400, f"{where} must be object")
    for name in required:
        if name not in body:
            raise ApiError(400, f"{where} must have required property '{name}'")
    if any(key not in fields for key in body):
        raise ApiError(400, f"{where} must NOT have additional properties")
    return dict(body)


def _check_field(where: str, kind: Any, value: Any) -> None:
    if kind == "readonly":
        raise ApiError(400, f"{where} is read-only")
    if isinstance(kind, tuple):
        if value not in kind:
            allowed = ", ".join(kind)
            raise ApiError(400, f"{where} must be equal to one of the allowed values: {allowed}")
        return
    if kind in _TYPE_CHECKS and not _TYPE_CHECKS[kind](value):
        raise ApiError(400, f"{where} must be {kind}")


def check_workflow(body: Any) -> JSON:
    """A workflow body for POST or PUT: the real schema's checks, first failure wins."""
    where = "request/body"
    _check_object(body, where, WORKFLOW_FIELDS, WORKFLOW_REQUIRED)
    for name, kind in WORKFLOW_FIELDS.items():
        if name not in body:
            continue
        value = body[name]
        if kind == "nodes":
            _check_nodes(value)
        elif kind == "settings":
            _check_object(value, f"{where}/settings", SETTINGS_FIELDS)
            for key, rule in SETTINGS_FIELDS.items():
                if key in value:
                    _check_field(f"{where}/settings/{key}", rule, value[key])
        elif kind == "staticData":
            _check_static_data(value)
        else:
            _check_field(f"{where}/{name}", kind, value)
    return dict(body)


def _check_nodes(nodes: Any) -> None:
    if not isinstance(nodes, list):
        raise ApiError(400, "request/body/nodes must be array")
    for index, node in enumerate(nodes):
        where = f"request/body/nodes/{index}"
        _check_object(node, where, NODE_FIELDS)
        for key, kind in NODE_FIELDS.items():
            if key in node:
                _check_field(f"{where}/{key}", kind, node[key])


def _check_static_data(value: Any) -> None:
    if value is None or isinstance(value, dict):
        return
    if isinstance(value, str):
        try:
            json.loads(value)
            return
        except ValueError:
            pass
    where = "request/body/staticData"
    raise ApiError(
        400,
        f"{where} must be string, {where} must be object, {where} must match a schema in anyOf",
    )


TAG_FIELDS = {"id": "readonly", "name": "string", "createdAt": "readonly", "updatedAt": "readonly"}


def check_tag(body: Any) -> str:
    """A tag body; returns the name."""
    where = "request/body"
    _check_object(body, where, TAG_FIELDS, ("name",))
    for key, kind in TAG_FIELDS.items():
        if key in body:
            _check_field(f"{where}/{key}", kind, body[key])
    return str(body["name"])


def check_tag_ids(body: Any) -> list[str]:
    """The body of PUT /workflows/{id}/tags: ``[{"id": "..."}]``."""
    if not isinstance(body, list):
        raise ApiError(400, "request/body must be array")
    ids = []
    for index, entry in enumerate(body):
        where = f"request/body/{index}"
        _check_object(entry, where, {"id": "string"}, ("id",))
        _check_field(f"{where}/id", "string", entry["id"])
        ids.append(str(entry["id"]))
    return ids


def check_retry(body: Any) -> bool:
    """The optional body of POST /executions/{id}/retry; returns loadWorkflow."""
    if body is None:
        return False
    if not isinstance(body, dict):
        raise ApiError(400, "request/body must be object")
    if "loadWorkflow" in body:
        _check_field("request/body/loadWorkflow", "boolean", body["loadWorkflow"])
    return bool(body.get("loadWorkflow", False))
