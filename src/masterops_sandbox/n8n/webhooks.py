"""Production webhooks: ``/webhook/<path>`` runs the active workflow that owns the path.

What the real server does, and so do we:

- a path+method belongs to the Webhook node (with an explicit ``webhookId``) of an active
  workflow; anything else is 404 with the real ``{code, message, hint}`` body, and a path
  registered for other methods says which ones;
- the request becomes the Webhook node's item ``{headers, params, query, body, webhookUrl,
  executionMode: "production"}``; a body that claims JSON and is not answers 422;
- every call records an execution with mode ``webhook``;
- ``responseMode`` ``onReceived`` (the default) answers ``{"message": "Workflow was started"}``
  whatever happens next; ``lastNode`` answers the last node's first item, or
  ``500 {"message": "Error in workflow"}`` when the run failed; ``responseNode`` answers
  what the Respond to Webhook node says.

``/webhook-test/<path>`` exists only while an editor is listening, so it is always 404 here.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from masterops_sandbox.n8n.executor import record_run
from masterops_sandbox.n8n.responses import N8nJSONResponse
from masterops_sandbox.n8n.runner import RunOutcome
from masterops_sandbox.n8n.store import JSON, N8nStore

WEBHOOK_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
PRODUCTION_HINT = (
    "The workflow must be active for a production URL to run successfully. You can activate "
    "the workflow using the toggle in the top-right of the editor. Note that unlike test URL "
    "calls, production URL calls aren't shown on the canvas (only in the executions list)"
)
TEST_HINT = (
    "Click the 'Execute workflow' button on the canvas, then try again. (In test mode, the "
    "webhook only works for one call after you click this button)"
)
STARTED = {"message": "Workflow was started"}
FAILED = {"message": "Error in workflow"}


class _Unparseable(Exception):
    pass


class WebhookRoutes:
    def __init__(self, store: N8nStore) -> None:
        self.store = store

    async def production(self, request: Request) -> Response:
        path = request.path_params["path"]
        method = request.method
        owner = self.store.webhooks.get((method, path))
        wf = self.store.workflows.get(owner[0]) if owner else None
        node = wf.node(owner[1]) if wf and owner else None
        if wf is None or node is None:
            return self._not_registered(method, path)
        try:
            body = await _body(request)
        except _Unparseable as exc:
            payload = {"code": 422, "message": "Failed to parse request body", "hint": str(exc)}
            return N8nJSONResponse(payload, status_code=422)
        item: JSON = {
            "json": {
                "headers": dict(request.headers),
                "params": {},
                "query": _query(request),
                "body": body,
                "webhookUrl": f"{str(request.base_url).rstrip('/')}/webhook/{path}",
                "executionMode": "production",
            },
            "pairedItem": {"item": 0},
        }
        _, outcome = record_run(self.store, wf, start=node, items=[item], mode="webhook")
        return _answer(node, outcome)

    def _not_registered(self, method: str, path: str) -> Response:
        others = self.store.webhook_methods(path)
        if others:
            text = (
                f"This webhook is not registered for {method} requests. "
                f"Did you mean to make a {' or '.join(others)} request?"
            )
            return N8nJSONResponse({"code": 404, "message": text}, status_code=404)
        text = f'The requested webhook "{method} {path}" is not registered.'
        payload = {"code": 404, "message": text, "hint": PRODUCTION_HINT}
        return N8nJSONResponse(payload, status_code=404)

    async def test(self, request: Request) -> Response:
        path = request.path_params["path"]
        text = f'The requested webhook "{path}" is not registered.'
        payload = {"code": 404, "message": text, "hint": TEST_HINT}
        return N8nJSONResponse(payload, status_code=404)


async def _body(request: Request) -> Any:
    raw = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not raw:
        return {}
    if kind == "application/json":
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Unparseable(str(exc)) from exc
    if kind == "application/x-www-form-urlencoded":
        return _flatten(parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True))
    if kind == "text/plain":
        return raw.decode("utf-8", "replace")
    return {}


def _query(request: Request) -> JSON:
    grouped: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        grouped.setdefault(key, []).append(value)
    return _flatten(grouped)


def _flatten(grouped: dict[str, list[str]]) -> JSON:
    # Repeated keys become lists, single ones stay strings: Node's querystring does that.
    return {k: v[0] if len(v) == 1 else v for k, v in grouped.items()}


def _answer(node: JSON, outcome: RunOutcome) -> Response:
    params: JSON = node.get("parameters") or {}
    mode = params.get("responseMode", "onReceived")
    if mode == "lastNode":
        if outcome.status != "success":
            return N8nJSONResponse(FAILED, status_code=500)
        what = params.get("responseData", "firstEntryJson")
        if what == "noData":
            return Response(b"", status_code=200)
        if what == "allEntries":
            return N8nJSONResponse([i.get("json", {}) for i in outcome.output])
        if not outcome.output:
            return N8nJSONResponse({"message": "No item to return was found"}, status_code=500)
        return N8nJSONResponse(outcome.output[0].get("json", {}))
    if mode == "responseNode":
        reply = outcome.reply
        if reply is not None:
            if reply.as_text:
                return Response(str(reply.body), status_code=reply.status, media_type="text/plain")
            return N8nJSONResponse(reply.body, status_code=reply.status)
        if outcome.status != "success":
            return N8nJSONResponse(FAILED, status_code=500)
        return N8nJSONResponse({"message": "Workflow executed successfully"})
    code = int((params.get("options") or {}).get("responseCode") or 200)
    return N8nJSONResponse(STARTED, status_code=code)


def webhook_routes(store: N8nStore) -> list[Route]:
    r = WebhookRoutes(store)
    return [
        Route("/webhook/{path:path}", r.production, methods=WEBHOOK_METHODS),
        Route("/webhook-test/{path:path}", r.test, methods=WEBHOOK_METHODS),
    ]
