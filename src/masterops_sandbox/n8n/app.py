"""The n8n sandbox: one n8n instance (public API v1, health, production webhooks) as ASGI.

``build_n8n`` returns the Python handle (``N8nSandbox``) and the ``ServiceHarness`` that
serves it; ``create_n8n`` returns the harness alone. The handle is how tests and the
demo shape the instance without HTTP: add workflows, record executions, flip readiness.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from masterops_sandbox.harness import ServiceHarness
from masterops_sandbox.n8n.executor import record_run
from masterops_sandbox.n8n.responses import N8nJSONResponse, message, too_many_requests
from masterops_sandbox.n8n.routes_credentials import credential_routes
from masterops_sandbox.n8n.routes_executions import execution_routes
from masterops_sandbox.n8n.routes_tags import tag_routes
from masterops_sandbox.n8n.routes_workflows import workflow_routes
from masterops_sandbox.n8n.runner import start_node, trigger_items
from masterops_sandbox.n8n.seed import DEFAULT_EXECUTIONS, seed_n8n
from masterops_sandbox.n8n.shapes import execution_json, tag_json, workflow_json
from masterops_sandbox.n8n.store import JSON, ActivationError, Clock, N8nStore, Workflow, utcnow
from masterops_sandbox.n8n.webhooks import webhook_routes

SERVICE = "n8n"


class N8nSandbox:
    """A stateful imitation of one n8n instance, and its Python controls."""

    def __init__(self, api_key: str, *, seed: int = 0, now: Clock = utcnow) -> None:
        self.api_key = api_key
        self.seed = seed
        self.store = N8nStore(seed=seed, clock=now)
        #: Credentials created through the API, by id, with their data.
        self.credentials: dict[str, dict[str, Any]] = {}
        self.ready = True  # False makes /healthz/readiness answer 503, as while n8n migrates
        self.app: ASGIApp = _ExpressPaths(self._build_app())

    # -- controls ----------------------------------------------------------------------

    def set_ready(self, ready: bool) -> None:
        self.ready = ready

    def state(self) -> dict[str, Any]:
        """Counts for ``/_sandbox/state``."""
        by_status: dict[str, int] = {}
        for execution in self.store.executions.values():
            by_status[execution.status] = by_status.get(execution.status, 0) + 1
        return {
            "ready": self.ready,
            "workflows": len(self.store.workflows),
            "active_workflows": sum(1 for w in self.store.workflows.values() if w.active),
            "tags": len(self.store.tags),
            "executions": len(self.store.executions),
            "executions_by_status": dict(sorted(by_status.items())),
            "webhooks": sorted(f"{m} {p}" for m, p in self.store.webhooks),
        }

    def create_workflow(
        self,
        name: str,
        nodes: list[JSON],
        connections: JSON | None = None,
        settings: JSON | None = None,
        *,
        active: bool = False,
        tags: Iterable[str] = (),
    ) -> JSON:
        """Create a workflow (tags by name, created when missing); returns its GET shape.
        Raises ``ValueError`` if ``active`` and the real server would refuse activation."""
        wf = self.store.create_workflow(name, nodes, connections or {}, settings or {})
        tag_ids = []
        for tag_name in tags:
            tag = self.store.tag_by_name(tag_name) or self.store.create_tag(tag_name)
            tag_ids.append(tag.id)
        wf.tag_ids = tag_ids
        if active:
            self.activate(wf.id)
        return workflow_json(self.store, wf, "get")

    def activate(self, workflow_id: str) -> JSON:
        wf = self._workflow(workflow_id)
        try:
            self.store.activate(wf)
        except ActivationError as exc:
            raise ValueError(str(exc)) from exc
        return workflow_json(self.store, wf, "get")

    def deactivate(self, workflow_id: str) -> JSON:
        wf = self._workflow(workflow_id)
        self.store.deactivate(wf)
        return workflow_json(self.store, wf, "get")

    def workflow(self, workflow_id: str) -> JSON:
        return workflow_json(self.store, self._workflow(workflow_id), "get")

    def workflow_by_name(self, name: str) -> JSON | None:
        wf = next((w for w in self.store.workflows.values() if w.name == name), None)
        return workflow_json(self.store, wf, "get") if wf else None

    def workflows(self) -> list[JSON]:
        return [workflow_json(self.store, w, "list") for w in self.store.sorted_workflows()]

    def tags(self) -> list[JSON]:
        return [tag_json(t) for t in self.store.sorted_tags()]

    def run(self, workflow_id: str, *, mode: str = "manual") -> JSON:
        """Run a workflow now from its trigger, as "Execute workflow" does; returns the
        recorded execution with its data."""
        wf = self._workflow(workflow_id)
        start = start_node(wf.nodes)
        if start is None:
            raise ValueError(f"workflow {workflow_id} has no nodes")
        items = trigger_items(start, int(self.store.now() * 1000))
        execution, _ = record_run(self.store, wf, start=start, items=items, mode=mode)
        return execution_json(self.store, execution, view="get", include_data=True)

    def record_execution(
        self,
        workflow_id: str,
        *,
        status: str = "success",
        mode: str = "trigger",
        started_at: datetime | None = None,
        duration: float = 1.0,
        error_message: str | None = None,
        error_node: str | None = None,
    ) -> JSON:
        """Add an execution to the history without running anything (a failure needs
        ``error_message`` and, for ``includeData``, the failing ``error_node``)."""
        self._workflow(workflow_id)
        started = started_at.timestamp() if started_at else self.store.now()
        running = status in ("running", "waiting", "new")
        execution = self.store.add_execution(
            workflow_id,
            mode=mode,
            status=status,
            started_at=round(started, 3),
            stopped_at=None if running else round(started + duration, 3),
            error_message=error_message,
            error_node=error_node,
        )
        return execution_json(self.store, execution, view="get")

    def resume_execution(
        self, execution_id: str, *, status: str = "success", duration: float = 1.0
    ) -> JSON:
        """A waiting execution resumes and ends with ``status``: like the real server,
        it keeps its (old, lower) id and gets a new ``startedAt``, now."""
        execution = self.store.executions.get(int(execution_id))
        if execution is None or execution.status != "waiting":
            raise KeyError(f"no waiting execution {execution_id!r}")
        started = round(self.store.now(), 3)
        execution.status = status
        execution.started_at = started
        execution.stopped_at = round(started + duration, 3)
        execution.wait_till = None
        return execution_json(self.store, execution, view="get")

    def executions(
        self, *, workflow_id: str | None = None, status: str | None = None
    ) -> list[JSON]:
        """Every execution, newest first (running ones included)."""
        return [
            execution_json(self.store, e)
            for e in self.store.iter_executions_desc()
            if (workflow_id is None or e.workflow_id == workflow_id)
            and (status is None or e.status == status)
        ]

    def _workflow(self, workflow_id: str) -> Workflow:
        wf = self.store.workflows.get(workflow_id)
        if wf is None:
            raise KeyError(f"no workflow {workflow_id!r}")
        return wf

    # -- ASGI --------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        def current_key() -> str:
            return self.api_key

        async def healthz(request: Request) -> Response:
            return N8nJSONResponse({"status": "ok"})

        async def readiness(request: Request) -> Response:
            if self.ready:
                return N8nJSONResponse({"status": "ok"})
            return N8nJSONResponse({"status": "error"}, status_code=503)

        routes = [
            Route("/healthz", healthz, methods=["GET"]),
            Route("/healthz/readiness", readiness, methods=["GET"]),
            *workflow_routes(self.store, current_key),
            *execution_routes(self.store, current_key),
            *tag_routes(self.store, current_key),
            *credential_routes(self.store, current_key, self.credentials),
            *webhook_routes(self.store),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})


_WEBHOOK_PREFIXES = ("/webhook/", "/webhook-test/")


class _ExpressPaths:
    """Express routes ignore one trailing slash (``/api/v1/tags/`` is ``/api/v1/tags``);
    Starlette would redirect instead. Webhook paths are left as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        trailing = len(path) > 1 and path.endswith("/")
        if scope["type"] == "http" and trailing and not path.startswith(_WEBHOOK_PREFIXES):
            # In place, so the harness sees the route Starlette matches.
            scope["path"] = path[:-1]
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown paths and wrong methods, with the real server's words.
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return message(405, f"{request.method} method not allowed")
    if status == 404:
        return message(404, "not found")
    return message(status, str(getattr(exc, "detail", "error")))


def _injected_rate_limit(scope: Scope, retry_after: int | None, policy: str | None) -> ASGIApp:
    """An injected 429 is n8n's own rate-limit answer (n8n has one limit: no policies)."""
    return too_many_requests(retry_after)


def build_n8n(
    api_key: str,
    *,
    seed: int = 0,
    seed_data: bool = True,
    executions: int = DEFAULT_EXECUTIONS,
    now: Clock = utcnow,
) -> tuple[N8nSandbox, ServiceHarness]:
    """An n8n sandbox with, unless ``seed_data`` is False, the seeded workflows, tags and
    ``executions`` executions over the last week."""
    sandbox = N8nSandbox(api_key, seed=seed, now=now)
    if seed_data:
        seed_n8n(sandbox.store, seed=seed, executions=executions)
    harness = ServiceHarness(
        SERVICE, sandbox.app, state=sandbox.state, rate_limited=_injected_rate_limit
    )
    return sandbox, harness


def create_n8n(
    api_key: str,
    *,
    seed: int = 0,
    seed_data: bool = True,
    executions: int = DEFAULT_EXECUTIONS,
    now: Clock = utcnow,
) -> ServiceHarness:
    return build_n8n(api_key, seed=seed, seed_data=seed_data, executions=executions, now=now)[1]
