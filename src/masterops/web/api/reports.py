"""The daily report and the data export, for n8n's reporting workflows (and any client).

``GET /reports/daily`` builds the report ``ops report daily`` prints, once per call, as
JSON plus its plain text: the library's daily-report workflow reads it and sends that
text once. ``POST /exports`` writes a table or summary view into the platform's
``exports/`` folder (``ops export`` does the same to a file you name) and says where:
the platform does the work, n8n only starts it on its schedule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from masterops.config import Config
from masterops.operations.errors import OperationFailed, UsageError
from masterops.operations.reports import build_reports, export_relation
from masterops.reports.export import exportable
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
