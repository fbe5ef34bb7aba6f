"""The dashboard: server-rendered pages (Jinja, htmx, a vendored chart library), their
partials and buttons, the live log tail, and the static files they load.

Routes::

    GET  /                       overview: business x service matrix (+ /partials/matrix)
    GET  /integrations           calls, errors and p95 per service as charts
                                 (data: /integrations/series.json)
    GET  /syncs                  recent runs with refused items (+ /partials/runs, polled)
    GET  /workflows, /alerts, /tasks, /logs
    GET  /events/logs            the log tail as server-sent events
    POST /actions/health-round   run a health round (operate)
    POST /actions/sync           start a sync (operate)
    POST /tasks, /tasks/{id}/complete    (operate)
    GET  /static/...             CSS, scripts and the vendored libraries (cached)
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from masterops.web.pages import actions, live, views

STATIC = Path(__file__).resolve().parent.parent / "static"
STATIC_MAX_AGE_S = 3600


class CachedStatic(StaticFiles):
    """Static files a browser may keep for an hour: pages link them with ``?v=<version>``,
    so a new release is fetched at once. (Everything else is ``no-store``.)"""

    async def get_response(self, path: str, scope: Scope) -> Response:
        answer = await super().get_response(path, scope)
        if answer.status_code in (200, 304):
            answer.headers["cache-control"] = f"public, max-age={STATIC_MAX_AGE_S}"
        return answer


async def favicon(request: Request) -> Response:
    # Browsers ask for /favicon.ico on every page without a <link rel=icon> (sign-in).
    return FileResponse(
        STATIC / "favicon.svg",
        media_type="image/svg+xml",
        headers={"cache-control": f"public, max-age={STATIC_MAX_AGE_S}"},
    )


def page_routes() -> list[BaseRoute]:
    return [
        Route("/favicon.ico", favicon),
        Route("/", views.overview),
        Route("/partials/matrix", views.overview_matrix),
        Route("/integrations", views.integrations),
        Route("/integrations/series.json", views.integration_series),
        Route("/syncs", views.syncs),
        Route("/partials/runs", views.sync_runs_partial),
        Route("/workflows", views.workflows),
        Route("/alerts", views.alerts),
        Route("/tasks", views.task_page, methods=["GET"]),
        Route("/tasks", actions.add_task, methods=["POST"]),
        Route("/tasks/{task_id:int}/complete", actions.complete_task, methods=["POST"]),
        Route("/logs", views.logs),
        Route("/events/logs", live.log_events),
        Route("/actions/health-round", actions.run_health_round, methods=["POST"]),
        Route("/actions/sync", actions.start_sync, methods=["POST"]),
        Mount("/static", app=CachedStatic(directory=STATIC), name="static"),
    ]
