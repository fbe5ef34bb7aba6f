"""``/healthz`` (the process answers) and ``/readyz`` (the database answers and its schema
is current): for load balancers and orchestrators, so no token is needed and nothing
but a status and a reason is said."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from masterops.db import migrate
from masterops.web.responses import JSON, error


async def healthz(request: Request) -> Response:
    return JSON({"status": "ok"})


async def readyz(request: Request) -> Response:
    def check() -> str | None:
        try:
            current = migrate.current_revision(request.app.state.engine)
        except Exception:  # any failure to reach the database means not ready
            return "the database cannot be reached"
        if current != migrate.head_revision():
            return "the database schema is not current; run `ops db upgrade`"
        return None

    problem = await run_in_threadpool(check)
    if problem is not None:
        return error(503, "not_ready", problem)
    return JSON({"status": "ready"})
