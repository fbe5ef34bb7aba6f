"""The JSON API under ``/api/v1``: what ``ops health``, ``ops logs`` and ``ops stats`` show.

Every endpoint refuses unknown or malformed query parameters with a 400 that names the
parameter, rather than guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from masterops.db.queries import query_logs
from masterops.db.summaries import run_summary
from masterops.sync.state import recent_runs
from masterops.timeparse import parse_instant
from masterops.web.inbox import STATUSES, inbox_rows
from masterops.web.readings import latest_health, overall_status
from masterops.web.responses import (
    JSON,
    BadRequest,
    check_params,
    choice_param,
    float_param,
    int_param,
)

LEVELS = ("debug", "info", "warn", "error")
LOG_PARAMS = (
    "service",
    "level",
    "source",
    "status",
    "business",
    "operation",
    "since",
    "until",
    "limit",
)
MAX_ROWS = 1000
MAX_HOURS = 24 * 366


async def _read(request: Request, read: Callable[[Connection], Any]) -> Response:
    """Run ``read`` on a connection in a worker thread (the engine is synchronous)."""

    def run() -> Any:
        with request.app.state.engine.connect() as conn:
            return read(conn)

    return JSON(await run_in_threadpool(run))


def _instant(params: Any, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return parse_instant(raw)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from None


async def health(request: Request) -> Response:
    check_params(request.query_params, ())

    def read(conn: Connection) -> dict[str, Any]:
        rows = latest_health(conn)
        return {"overall": overall_status(rows), "services": rows}

    return await _read(request, read)


async def logs(request: Request) -> Response:
    params = request.query_params
    check_params(params, LOG_PARAMS)
    filters = {
        "service": params.get("service"),
        "level": choice_param(params, "level", LEVELS),
        "source": params.get("source"),
        "status": params.get("status"),
        "business_id": params.get("business"),
        "operation": params.get("operation"),
    }
    since, until = _instant(params, "since"), _instant(params, "until")
    limit = int_param(params, "limit", 100, low=1, high=MAX_ROWS)

    def read(conn: Connection) -> dict[str, Any]:
        rows = query_logs(conn, filters=filters, since=since, until=until, limit=limit)
        return {"count": len(rows), "logs": rows}

    return await _read(request, read)


async def stats(request: Request) -> Response:
    check_params(request.query_params, ("hours",))
    hours = float_param(request.query_params, "hours", 24.0, low=0, high=MAX_HOURS)
    since = datetime.now(UTC) - timedelta(hours=hours)

    def read(conn: Connection) -> dict[str, Any]:
        return {
            "window_hours": hours,
            "since": since,
            "integrations": run_summary(conn, "integration_health_summary", since),
            "workflows": run_summary(conn, "workflow_performance_summary", since),
            "apis": run_summary(conn, "api_performance_summary", since),
        }

    return await _read(request, read)


async def sync_runs(request: Request) -> Response:
    params = request.query_params
    check_params(params, ("business", "entity", "limit"))
    business, entity = params.get("business"), params.get("entity")
    limit = int_param(params, "limit", 20, low=1, high=MAX_ROWS)

    def read(conn: Connection) -> dict[str, Any]:
        rows = recent_runs(conn, business_id=business, entity=entity, limit=limit)
        return {"count": len(rows), "runs": rows}

    return await _read(request, read)


async def webhook_inbox(request: Request) -> Response:
    params = request.query_params
    check_params(params, ("status", "business", "source", "limit"))
    status = choice_param(params, "status", STATUSES)
    business, source = params.get("business"), params.get("source")
    limit = int_param(params, "limit", 100, low=1, high=MAX_ROWS)

    def read(conn: Connection) -> dict[str, Any]:
        rows = inbox_rows(conn, status=status, business_id=business, source=source, limit=limit)
        return {"count": len(rows), "events": rows}

    return await _read(request, read)


routes = [
    Route("/health", health),
    Route("/logs", logs),
    Route("/stats", stats),
    Route("/sync/runs", sync_runs),
    Route("/webhooks/inbox", webhook_inbox),
]
