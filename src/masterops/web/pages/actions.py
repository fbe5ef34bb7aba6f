"""The dashboard's buttons (POST, operate scope, CSRF token in the form): run a health
round, start a sync, add and complete tasks.

Sent by htmx (``HX-Request``), a button answers with the fragment that replaces the
part of the page it changed, or a one-line notice; sent as a plain form (no script),
it redirects back to its page.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from masterops.db.api_tokens import TokenGrant
from masterops.operations.health import health_round
from masterops.operations.jobs import JobRefused, JobsUnavailable, start_sync_job
from masterops.tasks import store
from masterops.web.auth import forbidden
from masterops.web.pages.access import Viewer, operator, read_form
from masterops.web.pages.render import environment, page
from masterops.web.pages.views import _now, known_businesses, tasks_context
from masterops.web.responses import BadRequest
from masterops.web.settings import WebSettings

MAX_TITLE = 500


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def notice(text: str, kind: str = "ok", status: int = 200) -> HTMLResponse:
    html = environment().get_template("_notice.html").render(text=text, kind=kind)
    return HTMLResponse(html, status_code=status)


async def _guarded(request: Request) -> tuple[TokenGrant, dict[str, str]] | Response:
    """The form and the operator's grant, or (for htmx) the refusal as a notice."""
    form = await read_form(request)
    try:
        return await operator(request, form), form
    except BadRequest as exc:
        if not _htmx(request):
            raise
        return notice(exc.message, "problem", exc.status)


async def run_health_round(request: Request) -> Response:
    guarded = await _guarded(request)
    if isinstance(guarded, Response):
        return guarded
    grant, _ = guarded
    settings: WebSettings = request.app.state.settings
    if settings.services is None or settings.hub is None:
        return notice("this server runs no connectors; run `ops health` instead", "problem", 503)
    scopes: list[str | None] = [None] if grant.businesses is None else list(grant.businesses)
    checked, worst = 0, []
    for business in scopes:
        if business is not None and business not in settings.services.config.businesses:
            continue
        outcome = await health_round(
            settings.services, request.app.state.engine, settings.hub, business=business
        )
        checked += len(outcome.report.results)
        worst.append(outcome.report.status)
    if not _htmx(request):
        return RedirectResponse("/", status_code=303)
    status = next((s for s in ("down", "degraded", "healthy") if s in worst), "unknown")
    return notice(f"health round done: {checked} checks, {status}")


async def start_sync(request: Request) -> Response:
    """ "Sync now": enqueues the durable sync job (``operations.jobs``), as
    ``POST /api/v1/jobs/sync`` does; whoever runs the queues runs it, and its run shows
    on the syncs page (polled) as soon as it starts."""
    guarded = await _guarded(request)
    if isinstance(guarded, Response):
        return guarded
    grant, form = guarded
    settings: WebSettings = request.app.state.settings
    entity = form.get("entity", "")
    business: str | None = form.get("business") or None
    if entity == "executions":
        if grant.businesses is not None:
            return notice(
                "the executions import covers every business: it needs an unlimited token",
                "problem",
                403,
            )
        business = None  # one import reads every business's n8n
    elif business is None or not grant.sees(business):
        return notice(
            f"token {grant.name!r} may not sync business {str(business)[:64]!r}", "problem", 403
        )
    if settings.jobs is None:
        return notice("this server starts no jobs; run `ops sync` instead", "problem", 503)
    queue = settings.jobs
    try:
        ref = await run_in_threadpool(lambda: start_sync_job(queue, entity, business))
    except JobRefused as exc:
        return notice(str(exc), "problem", 400)
    except JobsUnavailable as exc:
        return notice(str(exc), "problem", 503)
    if not _htmx(request):
        return RedirectResponse("/syncs", status_code=303)
    which = ", ".join(ref.businesses) or "every business"
    return notice(f"{entity} sync of {which} {ref.status} (job {ref.job_id[:8]})")


def _task_fields(grant: TokenGrant, form: dict[str, str]) -> dict[str, Any]:
    title = form.get("title", "").strip()
    if not title or len(title) > MAX_TITLE:
        raise BadRequest(f"a task needs a title of 1 to {MAX_TITLE} characters")
    business = form.get("business") or None
    if not grant.sees(business):
        raise forbidden(
            "business_not_allowed",
            f"token {grant.name!r} may only add tasks of {', '.join(grant.businesses or ())}",
        )
    raw = form.get("priority", "3")
    if raw not in {"1", "2", "3", "4", "5"}:
        raise BadRequest(f"priority must be 1 (highest) to 5 (lowest), got {raw[:20]!r}")
    return {"title": title, "business": business, "priority": int(raw)}


async def _tasks_answer(request: Request, grant: TokenGrant, form: dict[str, str]) -> Response:
    if not _htmx(request):
        return RedirectResponse("/tasks", status_code=303)
    who = Viewer(grant, form.get("csrf"))
    return page(request, "_tasks.html", who, _now(), await tasks_context(request, who))


async def add_task(request: Request) -> Response:
    guarded = await _guarded(request)
    if isinstance(guarded, Response):
        return guarded
    grant, form = guarded
    try:
        fields = _task_fields(grant, form)
    except BadRequest as exc:
        if not _htmx(request):
            raise
        return notice(exc.message, "problem", exc.status)
    if fields["business"] is not None and fields["business"] not in known_businesses(request):
        return notice(f"unknown business {fields['business'][:64]!r}", "problem", 400)

    def write() -> None:
        with request.app.state.engine.begin() as conn:
            title = fields.pop("title")
            store.add_task(conn, title, category="dashboard", **fields)

    await run_in_threadpool(write)
    return await _tasks_answer(request, grant, form)


async def complete_task(request: Request) -> Response:
    guarded = await _guarded(request)
    if isinstance(guarded, Response):
        return guarded
    grant, form = guarded
    raw = request.path_params["task_id"]

    def write(conn: Connection) -> bool:
        try:
            task = store.get_task(conn, raw)
        except store.TaskError:
            return False
        if not grant.sees(task["business"]):
            return False  # as if it did not exist
        store.update_task(conn, raw, {"status": "completed"})
        return True

    def run() -> bool:
        with request.app.state.engine.begin() as conn:
            return write(conn)

    if not await run_in_threadpool(run):
        return notice(f"no task with id {raw}", "problem", 404)
    return await _tasks_answer(request, grant, form)
