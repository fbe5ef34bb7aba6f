"""``build_api``: the FastAPI application ``create_app`` mounts at ``/api/v1``.

Its OpenAPI 3.1 document is ``/api/v1/openapi.json``; ``/api/v1/docs`` is a plain page
listing the routes (FastAPI's own docs pages load scripts from a CDN). Both need a read
token like every other route. Every refusal is ``{"error": code, "message": ...}``.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

from masterops import __version__
from masterops.web.api import (
    actions,
    alerts,
    analytics,
    jobs,
    reads,
    reports,
    tasks,
    workflow_errors,
    workflows,
)
from masterops.web.api.common import Reader, strict_query
from masterops.web.responses import JSON, BadRequest, error

DESCRIPTION = (
    "The Master-Ops operator API. Send an API token from `ops tokens create` as "
    "`Authorization: Bearer <token>`. Scopes: read < operate (actions) < admin (unmasked "
    "personal data). A token limited to businesses reads only their rows."
)


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return error(exc.status, exc.code, exc.message, exc.headers)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("query", "path"))
    message = f"{where or 'request'}: {first.get('msg', 'invalid')}"
    if "input" in first and isinstance(first["input"], str | int | float):
        message += f", got {str(first['input'])[:80]!r}"
    return error(400, "bad_request", message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error(404, "not_found", f"nothing at {request.url.path}")
    if exc.status_code == 405:
        return error(405, "method_not_allowed", f"{request.method} is not allowed here")
    return error(exc.status_code, "http_error", str(exc.detail))


def build_api() -> FastAPI:
    api = FastAPI(
        title="Master-Ops API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(strict_query)],
        exception_handlers={
            BadRequest: _bad_request,
            RequestValidationError: _invalid,
            HTTPException: _http_error,
        },
    )
    api.include_router(reads.router)
    api.include_router(analytics.router)
    api.include_router(tasks.router)
    api.include_router(actions.router)
    api.include_router(alerts.router)
    api.include_router(jobs.router)
    api.include_router(workflows.router)
    api.include_router(reports.router)
    api.include_router(workflow_errors.router)

    @api.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request, grant: Reader) -> JSON:
        return JSON(_document(api, request))

    @api.get("/docs", include_in_schema=False)
    async def docs(request: Request, grant: Reader) -> HTMLResponse:
        return HTMLResponse(_docs_page(_document(api, request)))

    return api


def _document(api: FastAPI, request: Request) -> dict[str, Any]:
    document = dict(api.openapi())
    document["servers"] = [{"url": request.scope.get("root_path", "") or "/"}]
    return document


def _docs_page(document: dict[str, Any]) -> str:
    base = document["servers"][0]["url"].rstrip("/")
    rows = []
    for path, operations in sorted(document["paths"].items()):
        for method, operation in operations.items():
            params = ", ".join(p["name"] for p in operation.get("parameters", ()))
            rows.append(
                f"<tr><td>{escape(method.upper())}</td><td><code>{escape(base + path)}</code></td>"
                f"<td>{escape(operation.get('summary', ''))}</td><td>{escape(params)}</td></tr>"
            )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Master-Ops API</title></head><body>"
        f"<h1>Master-Ops API {escape(document['info']['version'])}</h1>"
        f"<p>{escape(document['info']['description'])}</p>"
        f'<p>The OpenAPI document: <a href="{escape(base)}/openapi.json">openapi.json</a></p>'
        "<table><tr><th>Method</th><th>Path</th><th>What</th><th>Parameters</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
