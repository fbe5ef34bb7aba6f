"""The daily report and the data export, for n8n's reporting workflows (and any client).

``GET /reports/daily`` builds the report ``ops report daily`` prints, once per call, as
JSON plus its plain text. ``POST /reports/daily/deliveries`` SENDS yesterday's daily
report of each business (email and Slack, as ``ops report daily --send``) under the same
``report_deliveries`` claim the scheduled reports take, so a business's day goes out once
however often it is called and whoever else sends it: the library's daily-report
workflow calls it on its schedule. ``POST /exports`` writes a table or summary view
into the platform's ``exports/`` folder (``ops export`` does the same to a file you
name) and says where: the platform does the work, n8n only starts it on its schedule.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from masterops.config import Config
from masterops.operations.errors import OperationFailed, UsageError
from masterops.operations.reports import (
    DueDelivery,
    build_reports,
    deliver_scheduled,
    export_relation,
)
from masterops.reports.deliveries import next_attempt
from masterops.reports.export import exportable
from masterops.reports.periods import report_period
from masterops.reports.render import text
from masterops.timeparse import parse_instant
from masterops.web.api.common import Operator, Reader
from masterops.web.api.tasks import Body
from masterops.web.auth import forbidden, visible_businesses
from masterops.web.responses import JSON, BadRequest
from masterops.web.settings import WebSettings

router = APIRouter()

#: Where ``POST /exports`` writes, under the platform's home folder.
EXPORTS_FOLDER = "exports"


def _config(request: Request, instead: str) -> Config:
    settings: WebSettings = request.app.state.settings
    if settings.services is None:
        raise BadRequest(
            f"this server has no configuration loaded; run `{instead}` instead",
            status=503,
            code="not_configured",
        )
    return settings.services.config


@router.get("/reports/daily", summary="Yesterday's daily report per business, with its text")
async def daily_report(
    request: Request,
    grant: Reader,
    business: Annotated[str | None, Query(max_length=64, description="One business.")] = None,
) -> JSON:
    config = _config(request, "ops report daily")
    wanted = visible_businesses(grant, business)
    if business is not None and business not in config.businesses:
        raise BadRequest(f"unknown business {business!r}")
    engine = request.app.state.engine

    def build() -> list[Any]:
        reports = []
        for slug in wanted:
            reports.extend(build_reports(config, engine, "daily", business=slug))
        return reports

    try:
        reports = await run_in_threadpool(build)
    except (UsageError, OperationFailed) as exc:
        raise BadRequest(str(exc)) from None
    return JSON(
        {
            "count": len(reports),
            "subject": "Master-Ops daily report: " + ", ".join(r.business_name for r in reports),
            "text": "\n\n".join(text(r) for r in reports),
            "reports": [r.to_dict() for r in reports],
        }
    )


def _deliver_daily(
    config: Config, engine: Any, slugs: list[str], now: datetime, claimant: str
) -> list[dict[str, Any]]:
    """Send each business's report of yesterday (its local day) unless it went out."""
    from sqlalchemy import select

    from masterops.db.tables import report_deliveries as t

    out = []
    for slug in slugs:
        business = config.business(slug)
        period = report_period("daily", business.timezone, day=None, now=now)
        row: dict[str, Any] = {
            "business_id": slug,
            "business_name": business.name,
            "kind": "daily",
            "period": period.key,
            "status": None,
            "channels": [],
            "error": None,
        }
        with engine.connect() as conn:
            attempt = next_attempt(conn, slug, "daily", period.key)
            if attempt is None:
                # Sent, being sent by another run, or given up on after its last attempt.
                found = conn.execute(
                    select(t.c.status, t.c.channels, t.c.error).where(
                        t.c.business_id == slug, t.c.kind == "daily", t.c.period == period.key
                    )
                ).one()
        if attempt is None:
            row["status"] = {"sent": "already_sent", "sending": "in_progress"}.get(
                found.status, "gave_up"
            )
            row["channels"] = [c for c in (found.channels or "").split(",") if c]
            row["error"] = found.error
            out.append(row)
            continue
        due = DueDelivery(slug, "daily", period.last.isoformat(), period.key, attempt)
        result = deliver_scheduled(config, engine, due, claimant=claimant, now=now)
        row["status"] = result["status"]  # sent, failed, or skipped (another run has it)
        row["channels"] = list(result.get("channels") or [])  # type: ignore[call-overload]
        row["error"] = result.get("error")
        out.append(row)
    return out


@router.post(
    "/reports/daily/deliveries",
    summary="Send yesterday's daily report of each business, once per day (operate)",
)
async def deliver_daily_report(
    request: Request,
    grant: Operator,
    business: Annotated[str | None, Query(max_length=64, description="One business.")] = None,
) -> JSON:
    config = _config(request, "ops report daily --send")
    if business is not None and business not in config.businesses:
        raise BadRequest(f"unknown business {business!r}")
    wanted = visible_businesses(grant, business)
    slugs = list(config.businesses) if wanted == [None] else [str(b) for b in wanted]
    # One claimant per call: two calls at once race for a claim and one of them wins.
    claimant = f"api:{uuid.uuid4().hex}"
    deliveries = await run_in_threadpool(
        _deliver_daily, config, request.app.state.engine, slugs, datetime.now(UTC), claimant
    )
    failed = [d for d in deliveries if d["status"] in ("failed", "gave_up")]
    answer: dict[str, Any] = {
        "count": len(deliveries),
        "sent": sum(1 for d in deliveries if d["status"] == "sent"),
        "deliveries": deliveries,
    }
    if failed:
        # A report that cannot be delivered is an error its caller must see (n8n's run
        # fails, and its error workflow reports it), not a success with a footnote. A 409,
        # as for n8n's refusals: the request was right, where it goes refused it.
        reasons = "; ".join(f"{d['business_id']}: {d['error']}" for d in failed)
        answer.update(error="report_not_delivered", message=f"report not delivered: {reasons}")
        return JSON(answer, status_code=409)
    return JSON(answer)


class ExportRequest(Body):
    # The exportable names are listed in the OpenAPI document, so a client (and the
    # schemathesis suite) sees what it may ask for; the export still checks the name.
    name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            pattern="^[a-z_]+$",
            json_schema_extra={"enum": exportable()},
        ),
    ]
    format: Literal["csv", "json"] = "csv"
    since: Annotated[str | None, Field(max_length=64)] = None
    business: Annotated[str | None, Field(max_length=64)] = None


@router.post("/exports", status_code=201, summary="Export a table or view to a file (operate)")
async def export(request: Request, grant: Operator, body: ExportRequest) -> JSON:
    config = _config(request, "ops export")
    visible_businesses(grant, body.business)  # 403 for a business the token does not see
    if body.business is None and grant.businesses is not None:
        # Exporting "everything" would hand a limited token other businesses' rows.
        raise forbidden("business_scoped", "business: a token limited to businesses names one")
    start = None
    if body.since is not None:
        try:
            start = parse_instant(body.since)
        except ValueError as exc:
            raise BadRequest(f"since: {exc}") from None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    suffix = "csv" if body.format == "csv" else "jsonl"
    scope = f"-{body.business}" if body.business else ""
    folder: Path = config.home / EXPORTS_FOLDER
    path = folder / f"{body.name}{scope}-{stamp}.{suffix}"
    engine = request.app.state.engine

    def write() -> int:
        folder.mkdir(parents=True, exist_ok=True)
        # Written beside, renamed when complete: a reader never sees half a file.
        partial = path.with_suffix(path.suffix + ".partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as out:
                rows = export_relation(
                    engine, body.name, body.format, out, since=start, business=body.business
                )
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return rows

    try:
        rows = await run_in_threadpool(write)
    except UsageError as exc:
        raise BadRequest(str(exc)) from None
    answer: dict[str, Any] = {
        "name": body.name,
        "format": body.format,
        "business": body.business,
        "rows": rows,
        "file": path.name,
        "path": str(path),
    }
    return JSON(answer, status_code=201)
