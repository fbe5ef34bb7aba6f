"""Sync jobs: start one (operate), see how it goes and list the recent ones (read).

This is how n8n (or any client) asks the platform to run a sync: ``POST /jobs/sync``
answers 202 at once with the job's id and URL, and ``GET /jobs/{id}`` says whether it is
enqueued, running, succeeded or failed, with the sync's summary rows or its error.

Who runs the job: it is enqueued (``operations.jobs.start_sync_job``) as the very DBOS
workflow the schedules run, on the business's sync queue, so it never overlaps a
scheduled sync of that business and survives a restart of whoever runs it. Whoever
listens to the queues runs it: every ``ops worker``, or, on an installation with no
worker, ``ops serve --run-jobs``, which runs a worker inside the web process. The API
process itself only writes and reads workflow rows; with nobody listening, a job stays
``enqueued`` (which its status says) until a worker starts.

``Idempotency-Key``: the same key from the same token names the same job; repeating the
request returns it (200) instead of starting a second one.

A token limited to some businesses may start and see only jobs of its businesses; the
n8n execution import covers every business, so it needs an unlimited token.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from masterops.db.api_tokens import TokenGrant
from masterops.operations.jobs import (
    JobQueue,
    JobRefused,
    JobStatus,
    JobsUnavailable,
    job_status,
    recent_jobs,
    start_sync_job,
)
from masterops.web.api.common import Operator, Reader
from masterops.web.api.tasks import Body
from masterops.web.auth import forbidden
from masterops.web.responses import JSON, BadRequest

router = APIRouter()
JobId = Annotated[str, Path(min_length=32, max_length=32, pattern="^[0-9a-f]{32}$")]
MAX_JOBS = 100


class SyncRequest(Body):
    entity: Literal["inventory", "customers", "orders", "executions"]
    business: Annotated[str | None, Field(max_length=64)] = None
    full: bool = False


def _queue(request: Request) -> JobQueue:
    queue: JobQueue | None = getattr(request.app.state.settings, "jobs", None)
    if queue is None:
        raise BadRequest(
            "this server starts no jobs; run `ops sync` or `ops worker --once` instead",
            status=503,
            code="not_configured",
        )
    return queue


def _sees(grant: TokenGrant, job: JobStatus) -> bool:
    if grant.businesses is None:
        return True
    # No business named: the n8n import, which covers every business.
    return bool(job.businesses) and all(grant.sees(b) for b in job.businesses)


async def _call(work: Any) -> Any:
    try:
        return await run_in_threadpool(work)
    except JobRefused as exc:
        raise BadRequest(str(exc)) from None
    except JobsUnavailable as exc:
        raise BadRequest(str(exc), status=503, code="jobs_unavailable") from None


def _url(request: Request, job_id: str) -> str:
    return f"{request.scope.get('root_path', '')}/jobs/{job_id}"


@router.post("/jobs/sync", status_code=202, summary="Start a sync job (operate)")
async def start_sync(
    request: Request,
    grant: Operator,
    body: SyncRequest,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            pattern=r"^[\x21-\x7e]+$",
            description="The same key from the same token starts the job once.",
        ),
    ] = None,
) -> JSON:
    if body.entity == "executions" and grant.businesses is not None:
        raise forbidden(
            "business_scoped",
            f"the executions sync covers every business; token {grant.name!r} is limited "
            f"to {', '.join(grant.businesses)}",
        )
    if body.business is not None and not grant.sees(body.business):
        raise forbidden(
            "business_not_allowed",
            f"token {grant.name!r} may only start jobs of {', '.join(grant.businesses or ())}",
        )
    queue = _queue(request)
    business = body.business if body.business or grant.businesses is None else grant.businesses
    # Keys are the client's: two tokens choosing the same key get two jobs.
    key = None if idempotency_key is None else f"{grant.id}:{idempotency_key}"
    ref = await _call(lambda: start_sync_job(queue, body.entity, business, body.full, key))
    answer = {
        "job_id": ref.job_id,
        "status": ref.status,
        "entity": ref.entity,
        "businesses": list(ref.businesses),
        "url": _url(request, ref.job_id),
    }
    return JSON(answer, status_code=202 if ref.created else 200)


@router.get("/jobs/{job_id}", summary="A job's status, with its results or error")
async def get_job(request: Request, grant: Reader, job_id: JobId) -> JSON:
    queue = _queue(request)
    job: JobStatus | None = await _call(lambda: job_status(queue, job_id))
    if job is None:
        raise BadRequest(f"no job with id {job_id}", status=404, code="not_found")
    if not _sees(grant, job):
        raise forbidden("business_not_allowed", f"token {grant.name!r} may not see job {job_id}")
    return JSON({**job.to_dict(), "url": _url(request, job_id)})


@router.get("/jobs", summary="Recent jobs started through the API, newest first")
async def list_jobs(
    request: Request,
    grant: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_JOBS)] = 20,
) -> JSON:
    queue = _queue(request)
    # Read more than asked when the token is limited: others' jobs are dropped.
    wanted = limit if grant.businesses is None else MAX_JOBS
    jobs: list[JobStatus] = await _call(lambda: recent_jobs(queue, wanted))
    rows = [
        {**job.to_dict(), "url": _url(request, job.job_id)} for job in jobs if _sees(grant, job)
    ][:limit]
    return JSON({"count": len(rows), "jobs": rows})
