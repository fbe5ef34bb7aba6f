"""Trends and service level objectives, read from the API rollups (``ops stats --trend``
and ``ops slo`` answer the same). Both mix every business: a token for all is needed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection

from masterops.alerts.slo import slo_report
from masterops.config import SloSettings
from masterops.db.rollup_reads import trend
from masterops.web.api.common import Reader, read
from masterops.web.auth import require_every_business
from masterops.web.responses import JSON
from masterops.web.settings import WebSettings

router = APIRouter()
MAX_TREND_DAYS = 366


@router.get("/stats/trend", summary="Calls, error rate and p95 per service per UTC day or hour")
async def stats_trend(
    request: Request,
    grant: Reader,
    grain: Literal["daily", "hourly"] = "daily",
    days: Annotated[
        int, Query(ge=1, le=MAX_TREND_DAYS, description="Days back, today included.")
    ] = 30,
) -> JSON:
    require_every_business(grant, "stats")

    def reader(conn: Connection) -> dict[str, Any]:
        return {"grain": grain, "days": days, "rows": trend(conn, grain, days, datetime.now(UTC))}

    return await read(request, reader)


@router.get("/slo", summary="Each service's objectives, error budget left and burn rates")
async def slo(request: Request, grant: Reader) -> JSON:
    require_every_business(grant, "slo")
    web: WebSettings = request.app.state.settings
    # A server started without configuration judges by the default objectives.
    settings = web.services.config.slo if web.services is not None else SloSettings()

    def reader(conn: Connection) -> dict[str, Any]:
        report = slo_report(conn, settings, datetime.now(UTC))
        return {"window_days": settings.window_days, "services": [s.as_dict() for s in report]}

    return await read(request, reader)
