"""Actions an operate token may start: a health round, run now through the same
operation ``ops health`` runs, on the serving process's connectors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import Field

from masterops.operations.health import health_round
from masterops.web.api.common import Operator
from masterops.web.api.tasks import Body
from masterops.web.auth import forbidden
from masterops.web.responses import JSON, BadRequest
from masterops.web.settings import WebSettings

router = APIRouter()


class RoundRequest(Body):
    business: Annotated[str | None, Field(max_length=64)] = None
    send_alerts: bool = True


@router.post("/health/rounds", summary="Run a health round now (operate)")
async def run_round(request: Request, grant: Operator, body: RoundRequest | None = None) -> JSON:
    wanted = body or RoundRequest()
    if not grant.sees(wanted.business):
        raise forbidden(
            "business_not_allowed",
            f"token {grant.name!r} may only run rounds of {', '.join(grant.businesses or ())}",
        )
    settings: WebSettings = request.app.state.settings
    if settings.services is None or settings.hub is None:
        raise BadRequest(
            "this server runs no connectors; run `ops health` instead",
            status=503,
            code="not_configured",
        )
    if wanted.business is not None and wanted.business not in settings.services.config.businesses:
        raise BadRequest(f"unknown business {wanted.business!r}")
    outcome = await health_round(
        settings.services,
        request.app.state.engine,
        settings.hub,
        business=wanted.business,
        send_alerts=wanted.send_alerts,
    )
    report = outcome.report
    answer: dict[str, Any] = {
        "status": report.status,
        "checked": len(report.results),
        "counts": dict(report.counts()),
        "alerts": len(outcome.alerts),
    }
    return JSON(answer)
