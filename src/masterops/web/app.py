"""``create_app``: the Starlette application ``ops serve`` runs.

Routes::

    POST /webhooks/hubspot      HubSpot webhooks (v3 signature) -> the webhook inbox
    GET  /api/v1/...            health, logs, stats, sync/runs, webhooks/inbox (JSON)
    GET  /metrics               Prometheus text format
    GET  /                      the dashboard (HTML, refreshes itself)

The app holds an engine and settings, nothing else: it never reads the environment and
every request opens (and returns) its own connection, so it runs unchanged in tests, in
``ops serve`` and behind any ASGI server.
"""

from __future__ import annotations

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from masterops.web import api
from masterops.web.dashboard import dashboard
from masterops.web.metrics import metrics
from masterops.web.responses import BadRequest, error
from masterops.web.settings import WebSettings
from masterops.web.webhooks import receive_hubspot


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return error(exc.status, exc.code, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error(404, "not_found", f"nothing at {request.url.path}")
    if exc.status_code == 405:
        return error(405, "method_not_allowed", f"{request.method} is not allowed here")
    return error(exc.status_code, "http_error", str(exc.detail))


def create_app(engine: Engine, settings: WebSettings | None = None) -> Starlette:
    """The HTTP service on ``engine`` (a migrated database)."""
    app = Starlette(
        routes=[
            Route("/", dashboard),
            Route("/metrics", metrics),
            Route("/webhooks/hubspot", receive_hubspot, methods=["POST"]),
            Mount("/api/v1", routes=api.routes),
        ],
        exception_handlers={BadRequest: _bad_request, HTTPException: _http_error},
    )
    app.state.engine = engine
    app.state.settings = settings or WebSettings()
    return app
