"""``POST /workflow-errors`` (operate): a failed n8n execution reported by the library's
error workflow, kept as an error line in ``integration_logs`` (service ``n8n``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from masterops.operations.n8n_workflows import record_workflow_failure
from masterops.web.api.common import Operator
from masterops.web.api.tasks import Body
from masterops.web.responses import JSON, BadRequest
from masterops.workflows.failures import WorkflowFailure

router = APIRouter()
Short = Annotated[str | None, Field(max_length=200)]


class FailureReport(Body):
    workflow_name: Annotated[str, Field(min_length=1, max_length=200)]
    message: Annotated[str, Field(min_length=1, max_length=20_000)]
    workflow_id: Short = None
    execution_id: Short = None
    node: Short = None
    url: Annotated[str | None, Field(max_length=2000)] = None
    mode: Short = None
    business: Annotated[str | None, Field(max_length=64)] = None


@router.post("/workflow-errors", status_code=201, summary="Record a failed n8n execution (operate)")
async def report_failure(request: Request, grant: Operator, body: FailureReport) -> JSON:
    if body.business is not None and not grant.sees(body.business):
        raise BadRequest(f"token {grant.name!r} may not report for {body.business!r}", status=403)
    failure = WorkflowFailure(
        workflow_id=body.workflow_id,
        workflow_name=body.workflow_name,
        message=body.message,
        execution_id=body.execution_id,
        node=body.node,
        url=body.url,
        mode=body.mode,
        business_id=body.business,
    )
    engine = request.app.state.engine
    log_id = await run_in_threadpool(lambda: record_workflow_failure(engine, failure))
    return JSON({"id": log_id, "recorded": True}, status_code=201)
