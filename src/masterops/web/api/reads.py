"""Read routes: health, logs, stats, API metrics, sync runs (and why their items were
refused), the webhook inbox, workflows.

A token limited to some businesses reads only their rows: a route given ``business``
answers 403 for another one, and without it reads each of the token's businesses.
Routes whose answer mixes every business (stats) need a token for every business.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection

from masterops.db.queries import query_logs
from masterops.db.summaries import run_summary
from masterops.operations.sync_status import find_run, runs_with_reasons
from masterops.sync.refusals import run_refusals
from masterops.sync.state import recent_runs
from masterops.web.api.common import MAX_ROWS, Reader, RowId, instant, merged, read
from masterops.web.api.rows import api_metric_rows, workflow_failures, workflow_summary
from masterops.web.auth import require_every_business, visible_businesses
from masterops.web.inbox import inbox_rows
from masterops.web.masking import mask_personal_data
from masterops.web.readings import latest_health, overall_status
from masterops.web.responses import JSON, BadRequest

router = APIRouter()
Business = Annotated[str | None, Query(max_length=64, description="One business's rows.")]
Limit = Annotated[int, Query(ge=1, le=MAX_ROWS)]
Since = Annotated[str | None, Query(description="An age (1h, 7d) or an ISO time.")]
MAX_HOURS = 24 * 366
#: The most refused items one answer of ``/sync/runs/{id}`` holds.
MAX_REFUSED = 10_000


@router.get("/health", summary="The newest check of every business and service")
async def health(request: Request, grant: Reader) -> JSON:
    def reader(conn: Connection) -> dict[str, Any]:
        rows = [r for r in latest_health(conn) if grant.sees(r["business_id"])]
        return {"overall": overall_status(rows), "services": rows}

    return await read(request, reader)


@router.get("/logs", summary="Integration log lines, oldest first")
async def logs(
    request: Request,
    grant: Reader,
    service: str | None = None,
    level: Literal["debug", "info", "warn", "error"] | None = None,
    source: str | None = None,
    status: str | None = None,
    business: Business = None,
    operation: str | None = None,
    since: Since = None,
    until: Since = None,
    limit: Limit = 100,
) -> JSON:
    businesses = visible_businesses(grant, business)
    start, end = instant("since", since), instant("until", until)
    filters = {
        "service": service,
        "level": level,
        "source": source,
        "status": status,
        "operation": operation,
    }

    def reader(conn: Connection) -> dict[str, Any]:
        parts = [
            query_logs(
                conn,
                filters={**filters, "business_id": b},
                since=start,
                until=end,
                limit=limit,
            )
            for b in businesses
        ]
        rows = merged(parts, key="created_at", limit=limit)[::-1]
        return {"count": len(rows), "logs": rows}

    return await read(request, reader)


@router.get("/stats", summary="Integration, workflow and API summaries over a window")
async def stats(
    request: Request,
    grant: Reader,
    hours: Annotated[float, Query(gt=0, le=MAX_HOURS, allow_inf_nan=False)] = 24.0,
) -> JSON:
    require_every_business(grant, "stats")
    since = datetime.now(UTC) - timedelta(hours=hours)

    def reader(conn: Connection) -> dict[str, Any]:
        return {
            "window_hours": hours,
            "since": since,
            "integrations": run_summary(conn, "integration_health_summary", since),
            "workflows": run_summary(conn, "workflow_performance_summary", since),
            "apis": run_summary(conn, "api_performance_summary", since),
        }

    return await read(request, reader)


@router.get("/api-metrics", summary="Recorded calls to HubSpot, Unleashed and n8n, newest first")
async def api_metrics(
    request: Request,
    grant: Reader,
    service: str | None = None,
    business: Business = None,
    since: Since = None,
    limit: Limit = 100,
) -> JSON:
    businesses = visible_businesses(grant, business)
    start = instant("since", since)

    def reader(conn: Connection) -> dict[str, Any]:
        parts = [
            api_metric_rows(conn, service=service, business_id=b, since=start, limit=limit)
            for b in businesses
        ]
        rows = merged(parts, key="created_at", limit=limit)
        return {"count": len(rows), "calls": rows}

    return await read(request, reader)


@router.get("/sync/runs", summary="Sync runs, newest first")
async def sync_runs(
    request: Request,
    grant: Reader,
    business: Business = None,
    entity: str | None = None,
    limit: Limit = 20,
) -> JSON:
    businesses = visible_businesses(grant, business)

    def reader(conn: Connection) -> dict[str, Any]:
        parts = [recent_runs(conn, business_id=b, entity=entity, limit=limit) for b in businesses]
        rows = runs_with_reasons(conn, merged(parts, key="started_at", limit=limit))
        if not grant.allows("admin"):
            rows = [mask_personal_data(r) for r in rows]  # a reason may quote an email
        return {"count": len(rows), "runs": rows}

    return await read(request, reader)


@router.get(
    "/sync/runs/{run_id}",
    summary="One sync run with every item refused and why (personal data masked unless admin)",
)
async def sync_run(
    request: Request,
    grant: Reader,
    run_id: RowId,
    limit: Annotated[int, Query(ge=1, le=MAX_REFUSED)] = MAX_REFUSED,
) -> JSON:
    def reader(conn: Connection) -> dict[str, Any]:
        run = find_run(conn, run_id)
        # Another business's run does not exist for this token (as for tasks).
        if run is None or not grant.sees(run["business_id"]):
            raise BadRequest(f"no sync run with id {run_id}", status=404, code="not_found")
        run["refused"] = run_refusals(conn, run_id, limit=limit)
        return run if grant.allows("admin") else mask_personal_data(run)

    return await read(request, reader)


@router.get(
    "/webhooks/inbox",
    summary="Webhook events, newest first (personal data masked unless the scope is admin)",
)
async def webhook_inbox(
    request: Request,
    grant: Reader,
    status: Literal["pending", "processed", "failed"] | None = None,
    business: Business = None,
    source: str | None = None,
    limit: Limit = 100,
) -> JSON:
    businesses = visible_businesses(grant, business)

    def reader(conn: Connection) -> dict[str, Any]:
        parts = [
            inbox_rows(conn, status=status, business_id=b, source=source, limit=limit)
            for b in businesses
        ]
        rows = merged(parts, key="received_at", limit=limit)
        if not grant.allows("admin"):
            rows = [mask_personal_data(r) for r in rows]
        return {"count": len(rows), "events": rows}

    return await read(request, reader)


@router.get("/workflows", summary="n8n workflows with their executions and failures")
async def workflows(
    request: Request, grant: Reader, business: Business = None, since: Since = None
) -> JSON:
    businesses = visible_businesses(grant, business)
    start = instant("since", since)

    def reader(conn: Connection) -> dict[str, Any]:
        rows = [row for b in businesses for row in workflow_summary(conn, b, start)]
        return {"count": len(rows), "workflows": rows}

    return await read(request, reader)


@router.get("/workflows/failures", summary="Failed n8n executions, newest first")
async def failures(
    request: Request,
    grant: Reader,
    business: Business = None,
    since: Since = None,
    limit: Limit = 100,
) -> JSON:
    businesses = visible_businesses(grant, business)
    start = instant("since", since)

    def reader(conn: Connection) -> dict[str, Any]:
        parts = [workflow_failures(conn, b, start, limit) for b in businesses]
        rows = merged(parts, key="started_at", limit=limit)
        return {"count": len(rows), "failures": rows}

    return await read(request, reader)
