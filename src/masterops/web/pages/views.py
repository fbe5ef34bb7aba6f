"""The dashboard's pages (GET): overview, integrations, syncs, workflows, alerts, tasks,
logs, and the partials and chart data htmx and the scripts fetch from them.

Each reads through ``readings`` on a worker thread (the engine is synchronous), limited
to the viewer's businesses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from masterops.config import DEFAULT_BUSINESSES, SERVICES
from masterops.operations.jobs import ENTITIES
from masterops.web.auth import forbidden
from masterops.web.pages import readings
from masterops.web.pages.access import SignInFirst, Viewer, viewer
from masterops.web.pages.render import page
from masterops.web.responses import check_params
from masterops.web.settings import WebSettings

T = TypeVar("T")
LOG_ROWS = 100


async def _read(request: Request, reader: Callable[[Connection], T]) -> T:
    def run() -> T:
        with request.app.state.engine.connect() as conn:
            return reader(conn)

    return await run_in_threadpool(run)


def _businesses(who: Viewer) -> readings.Businesses:
    return who.grant.businesses


def known_businesses(request: Request) -> list[str]:
    """The configured businesses (the defaults when the server runs no connectors)."""
    settings: WebSettings = request.app.state.settings
    if settings.services is not None:
        return list(settings.services.config.businesses)
    return [slug for slug, _ in DEFAULT_BUSINESSES]


def signed_in(
    handler: Callable[[Request, Viewer], Any],
) -> Callable[[Request], Any]:
    """A page handler, given the viewer; an anonymous browser goes to the sign-in form."""

    async def endpoint(request: Request) -> Response:
        try:
            who = await viewer(request)
        except SignInFirst:
            if request.headers.get("hx-request") == "true":
                # A polled part of a page whose session ended: send the whole page to
                # the sign-in form rather than swap the form into the part.
                return Response(status_code=200, headers={"HX-Redirect": "/signin"})
            return RedirectResponse("/signin", status_code=303)
        answer: Response = await handler(request, who)
        return answer

    return endpoint


def _now() -> datetime:
    return datetime.now(UTC)


async def _overview_context(request: Request, who: Viewer, now: datetime) -> dict[str, Any]:
    stale_after_s: float = request.app.state.settings.stale_after_s
    matrix = await _read(
        request, lambda c: readings.overview(c, _businesses(who), now, stale_after_s)
    )
    return {"matrix": matrix, "stale_after_min": round(stale_after_s / 60)}


@signed_in
async def overview(request: Request, who: Viewer) -> Response:
    now = _now()
    context = await _overview_context(request, who, now)
    return page(request, "overview.html", who, now, {**context, "title": "Overview"})


@signed_in
async def overview_matrix(request: Request, who: Viewer) -> Response:
    now = _now()
    context = await _overview_context(request, who, now)
    return page(request, "_matrix.html", who, now, context)


@signed_in
async def integrations(request: Request, who: Viewer) -> Response:
    days = request.query_params.get("period") == "30d"
    context = {"title": "Integrations", "period": "30d" if days else "24h"}
    return page(request, "integrations.html", who, _now(), context)


@signed_in
async def integration_series(request: Request, who: Viewer) -> Response:
    now = _now()
    if request.query_params.get("period") == "30d":  # per day, from the daily rollups
        data = await _read(request, lambda c: readings.daily_series(c, _businesses(who), now))
    else:
        data = await _read(request, lambda c: readings.call_series(c, _businesses(who), now))
    return JSONResponse(data)


async def _runs_context(request: Request, who: Viewer) -> dict[str, Any]:
    def reader(conn: Connection) -> dict[str, Any]:
        runs = readings.runs(conn, _businesses(who))
        return {"runs": runs, "refusals": readings.refusals(conn, [r["id"] for r in runs])}

    return await _read(request, reader)


@signed_in
async def syncs(request: Request, who: Viewer) -> Response:
    now = _now()
    context = await _runs_context(request, who)
    businesses = sorted(who.grant.businesses or known_businesses(request))
    return page(
        request,
        "syncs.html",
        who,
        now,
        {**context, "title": "Syncs", "businesses": businesses, "entities": ENTITIES},
    )


@signed_in
async def sync_runs_partial(request: Request, who: Viewer) -> Response:
    now = _now()
    return page(request, "_runs.html", who, now, await _runs_context(request, who))


@signed_in
async def workflows(request: Request, who: Viewer) -> Response:
    now = _now()
    data = await _read(
        request, lambda c: readings.workflows(c, _businesses(who), now - timedelta(days=7))
    )
    return page(request, "workflows.html", who, now, {**data, "title": "Workflows"})


@signed_in
async def alerts(request: Request, who: Viewer) -> Response:
    now = _now()
    rows = await _read(request, lambda c: readings.alerts(c, _businesses(who)))
    return page(request, "alerts.html", who, now, {"alerts": rows, "title": "Alerts"})


async def tasks_context(request: Request, who: Viewer) -> dict[str, Any]:
    rows = await _read(request, lambda c: readings.task_list(c, _businesses(who)))
    businesses = sorted(who.grant.businesses or known_businesses(request))
    return {"tasks": rows, "businesses": businesses}


@signed_in
async def task_page(request: Request, who: Viewer) -> Response:
    now = _now()
    context = await tasks_context(request, who)
    return page(request, "tasks.html", who, now, {**context, "title": "Tasks"})


def log_filters(request: Request, who: Viewer) -> dict[str, str | None]:
    """The log tail's filters from the query string; a business the viewer may not see
    is refused (403), an unknown level is ignored."""
    params = request.query_params
    check_params(params, ("business", "service", "level", "after"))
    business = params.get("business") or None
    if business is not None and not who.sees(business):
        raise forbidden(
            "business_not_allowed",
            f"token {who.grant.name!r} may not read business {business[:64]!r}",
        )
    level = params.get("level") or None
    return {
        "business": business,
        "service": (params.get("service") or None),
        "level": level if level in readings.LOG_LEVELS else None,
    }


@signed_in
async def logs(request: Request, who: Viewer) -> Response:
    now = _now()
    filters = log_filters(request, who)
    lines = await _read(
        request,
        lambda c: readings.log_lines(c, _businesses(who), **filters, after_id=None, limit=LOG_ROWS),
    )
    businesses = sorted(who.grant.businesses or known_businesses(request))
    return page(
        request,
        "logs.html",
        who,
        now,
        {
            "title": "Logs",
            "lines": lines,
            "last_id": lines[-1]["id"] if lines else 0,
            "filters": filters,
            "businesses": businesses,
            "services": SERVICES,
            "levels": readings.LOG_LEVELS,
        },
    )
