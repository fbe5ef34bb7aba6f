"""A tiny workflow interpreter: enough of n8n's engine to give a run an outcome and data.

The sandbox never calls out, so most nodes pass their items through. A few nodes
do what the real ones do, because tests and the demo rely on them:

- ``n8n-nodes-base.webhook`` starts a run with ``{headers, params, query, body,
  webhookUrl, executionMode}``, like the real node;
- ``n8n-nodes-base.set`` writes its assignments (``{{ $json.path }}`` is resolved);
- ``n8n-nodes-base.respondToWebhook`` decides the webhook's answer;
- a workflow is *built to fail* by a ``n8n-nodes-base.stopAndError`` node (message from
  ``errorMessage``) or a Code/Function node whose code contains ``throw`` (message taken
  from ``throw new Error('...')``, with ``[line N]`` appended as the real Code node does).

The shapes of run data and errors copy what a real n8n 1.123 records.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from masterops_sandbox.n8n.store import is_trigger, iso

JSON = dict[str, Any]
Items = list[JSON]

MAX_STEPS = 500  # a cycle in the connections must not hang the sandbox
_THROW = re.compile(r"""throw\s+(?:new\s+)?(?:\w*Error)?\s*\(?\s*(['"`])(.*?)\1""", re.DOTALL)
_EXPR = re.compile(r"\{\{\s*\$json((?:\.[A-Za-z_$][\w$]*|\[\s*['\"][^'\"]+['\"]\s*\])*)\s*\}\}")
_PATH_PART = re.compile(r"\.([A-Za-z_$][\w$]*)|\[\s*['\"]([^'\"]+)['\"]\s*\]")


@dataclass
class WebhookReply:
    """What a Respond to Webhook node asked the webhook to answer."""

    status: int
    body: Any
    as_text: bool = False


@dataclass
class RunOutcome:
    status: str  # "success" or "error"
    data: JSON  # the execution's ``data`` as the API shows it with includeData=true
    last_node: str | None
    output: Items  # the last node's items (what responseMode "lastNode" answers with)
    error: JSON | None
    reply: WebhookReply | None
    stopped_ms: int


class _NodeFailed(Exception):
    def __init__(self, error: JSON) -> None:
        super().__init__(error.get("message"))
        self.error = error


def start_node(nodes: list[JSON]) -> JSON | None:
    """The node a retry or a seeded run starts from: the first enabled trigger, else the first."""
    return next((n for n in nodes if is_trigger(n)), nodes[0] if nodes else None)


def trigger_items(node: JSON, started_ms: int) -> Items:
    """What a non-webhook trigger emits: the schedule trigger's timestamp item."""
    return [
        {
            "json": {"timestamp": iso(started_ms / 1000), "Timezone": "UTC"},
            "pairedItem": {"item": 0},
        }
    ]


def run_workflow(
    nodes: list[JSON],
    connections: JSON,
    *,
    start: JSON,
    items: Items,
    started_ms: int,
    source: str,
    fail_at: tuple[str, str] | None = None,
) -> RunOutcome:
    """Run from ``start`` with ``items``. ``fail_at=(node, message)`` makes that node fail as
    an external API call would (how seeded transient failures get their data)."""
    by_name = {str(n.get("name")): n for n in nodes}
    run_data: dict[str, list[JSON]] = {}
    clock = started_ms
    index = 0
    last: str | None = None
    output: Items = []
    reply: WebhookReply | None = None
    error: JSON | None = None
    stack: list[tuple[str, Items, str | None]] = [(str(start.get("name")), items, None)]
    steps = 0
    while stack and steps < MAX_STEPS:
        steps += 1
        name, incoming, previous = stack.pop()
        node = by_name.get(name)
        if node is None:
            continue
        entry: JSON = {
            "startTime": clock,
            "executionIndex": index,
            "source": [{"previousNode": previous}] if previous else [],
            "hints": [],
            "executionTime": 1,
        }
        index += 1
        clock += 1
        last = name
        try:
            if previous is None:
                produced = incoming
            elif fail_at is not None and fail_at[0] == name:
                raise _NodeFailed(_api_error(node, fail_at[1], clock))
            else:
                produced = _execute(node, incoming, clock)
        except _NodeFailed as failed:
            error = failed.error
            run_data.setdefault(name, []).append(
                {**entry, "executionStatus": "error", "error": error}
            )
            break
        if node.get("type") == "n8n-nodes-base.respondToWebhook" and reply is None:
            reply = _reply(node, produced)
        run_data.setdefault(name, []).append(
            {**entry, "executionStatus": "success", "data": {"main": [produced]}}
        )
        output = produced
        children = _children(connections, name)
        # Depth first, first connection first: executionOrder "v1".
        for child in reversed(children):
            stack.append((child, produced, name))
    result: JSON = {"runData": run_data, "lastNodeExecuted": last}
    if error is not None:
        # A first run records the error before the run data; a retry appends it.
        result = {"error": error, **result} if source != "retry" else {**result, "error": error}
    data: JSON = {
        "version": 1,
        "startData": {},
        "resultData": result,
        "executionData": {
            "contextData": {},
            "nodeExecutionStack": [],
            "metadata": {},
            "waitingExecution": {},
            "waitingExecutionSource": {},
            "runtimeData": {"version": 1, "establishedAt": started_ms, "source": source},
        },
    }
    return RunOutcome(
        status="error" if error is not None else "success",
        data=data,
        last_node=last,
        output=output,
        error=error,
        reply=reply,
        stopped_ms=clock + 1,
    )


def _children(connections: JSON, name: str) -> list[str]:
    outputs = (connections.get(name) or {}).get("main") or []
    names: list[str] = []
    for output in outputs:
        for link in output or []:
            if isinstance(link, dict) and link.get("node"):
                names.append(str(link["node"]))
    return names


def _execute(node: JSON, items: Items, now_ms: int) -> Items:
    if node.get("disabled"):
        return items
    kind = str(node.get("type", ""))
    params: JSON = node.get("parameters") or {}
    if kind == "n8n-nodes-base.stopAndError":
        raise _NodeFailed(_stop_and_error(node, params, now_ms))
    if kind in ("n8n-nodes-base.code", "n8n-nodes-base.function", "n8n-nodes-base.functionItem"):
        code = str(
            params.get("jsCode") or params.get("pythonCode") or params.get("functionCode") or ""
        )
        if re.search(r"\bthrow\b|\braise\b", code):
            raise _NodeFailed(_code_error(node, code))
        return items
    if kind == "n8n-nodes-base.set":
        return [_set(params, item, float(node.get("typeVersion") or 1)) for item in items]
    return items


def _stop_and_error(node: JSON, params: JSON, now_ms: int) -> JSON:
    kind = params.get("errorType", "errorMessage")
    message = str(params.get("errorMessage") or "")
    if kind == "errorObject":
        try:
            obj = json.loads(str(params.get("errorObject") or "{}"))
            message = str(obj.get("message", obj)) if isinstance(obj, dict) else str(obj)
        except ValueError:
            message = str(params.get("errorObject"))
    shown = {**node, "parameters": {"errorType": kind, **params}}
    return {
        "level": "warning",
        "tags": {},
        "timestamp": now_ms,
        "context": {},
        "functionality": "regular",
        "name": "NodeOperationError",
        "node": shown,
        "messages": [],
        "message": message,
        "stack": f"NodeOperationError: {message}\n    at ExecuteContext.execute (StopAndError)",
    }


def _code_error(node: JSON, code: str) -> JSON:
    match = _THROW.search(code)
    message = match.group(2) if match else "Error thrown by the Code node"
    offset = match.start() if match else code.find("throw")
    line = code.count("\n", 0, max(offset, 0)) + 1
    return {
        "level": "error",
        "tags": {},
        "description": None,
        "lineNumber": line,
        "node": node,
        "message": f"{message} [line {line}]",
        "stack": f"Error: {message}\n    at VmCodeWrapper (evalmachine.<anonymous>:{line})",
    }


def _api_error(node: JSON, message: str, now_ms: int) -> JSON:
    return {
        "level": "warning",
        "tags": {},
        "timestamp": now_ms,
        "context": {},
        "functionality": "regular",
        "name": "NodeApiError",
        "node": node,
        "messages": [message],
        "message": message,
        "stack": f"NodeApiError: {message}\n    at ExecuteContext.execute",
    }


def _set(params: JSON, item: JSON, version: float) -> JSON:
    source: JSON = item.get("json") or {}
    values: JSON = {}
    if version >= 3 or "assignments" in params or params.get("mode") == "raw":
        if params.get("mode") == "raw":
            try:
                raw = json.loads(str(params.get("jsonOutput", "{}")).lstrip("="))
                values = raw if isinstance(raw, dict) else {}
            except ValueError:
                values = {}
        for assignment in (params.get("assignments") or {}).get("assignments") or []:
            value = _resolve(assignment.get("value"), source)
            values[str(assignment.get("name"))] = _typed(value, assignment.get("type"))
        keep = bool(params.get("includeOtherFields"))
    else:
        for kind, entries in (params.get("values") or {}).items():
            for entry in entries or []:
                values[str(entry.get("name"))] = _typed(_resolve(entry.get("value"), source), kind)
        keep = not params.get("keepOnlySet", False)
    merged = {**source, **values} if keep else values
    return {"json": merged, "pairedItem": {"item": 0}}


def _resolve(value: Any, source: JSON) -> Any:
    """Resolve ``={{ $json.a.b }}`` expressions against the item; other expressions stay text."""
    if not isinstance(value, str) or not value.startswith("="):
        return value
    text = value[1:]
    whole = _EXPR.fullmatch(text.strip())
    if whole:
        return _lookup(source, whole.group(1))
    return _EXPR.sub(lambda m: str(_lookup(source, m.group(1))), text)


def _lookup(source: JSON, path: str) -> Any:
    current: Any = source
    for dotted, quoted in _PATH_PART.findall(path):
        key = dotted or quoted
        current = current.get(key) if isinstance(current, dict) else None
    return current


def _typed(value: Any, kind: Any) -> Any:
    try:
        if kind == "number" and isinstance(value, str):
            number = float(value)
            return int(number) if number.is_integer() else number
        if kind == "boolean" and isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
    except ValueError:
        return value
    return value


def _reply(node: JSON, items: Items) -> WebhookReply:
    params: JSON = node.get("parameters") or {}
    status = int((params.get("options") or {}).get("responseCode") or 200)
    mode = params.get("respondWith", "firstIncomingItem")
    first = items[0].get("json", {}) if items else {}
    if mode == "allIncomingItems":
        return WebhookReply(status, [i.get("json", {}) for i in items])
    if mode == "noData":
        return WebhookReply(status, "", as_text=True)
    if mode == "text":
        return WebhookReply(status, str(_resolve(params.get("responseBody", ""), first)), True)
    if mode == "json":
        body = _resolve(params.get("responseBody", "{}"), first)
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                return WebhookReply(status, body, as_text=True)
        return WebhookReply(status, body)
    return WebhookReply(status, first)
