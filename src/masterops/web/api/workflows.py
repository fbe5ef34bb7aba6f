"""n8n workflow actions (operate): activate and deactivate, through the operation
``ops workflows activate|deactivate`` runs, on the serving process's connectors.

n8n is one instance for every business, and a workflow is not any one business's: a
token limited to some businesses may not switch them (403).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from masterops.db.api_tokens import TokenGrant
from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.operations.errors import OperationFailed
from masterops.operations.n8n_workflows import set_workflow_active
from masterops.web.api.common import Operator
from masterops.web.auth import require_every_business
from masterops.web.responses import JSON, BadRequest
from masterops.web.settings import WebSettings
from masterops.workflows import WorkflowNotFound

router = APIRouter()
WorkflowRef = Annotated[
    str, Path(min_length=1, max_length=200, description="The workflow's n8n id, or exact name.")
]
# n8n's refusals that are about the workflow itself, not about reaching n8n.
_REFUSALS = (ErrorCategory.VALIDATION, ErrorCategory.CONFLICT)


async def _switch(request: Request, grant: TokenGrant, ref: str, active: bool) -> JSON:
    require_every_business(grant, "n8n workflows")
    if "\x00" in ref:
        raise BadRequest("workflow_id: must not contain a NUL character")
    settings: WebSettings = request.app.state.settings
    if settings.services is None:
        raise BadRequest(
            "this server runs no connectors; run `ops workflows activate|deactivate` instead",
            status=503,
            code="not_configured",
        )
    verb = "activate" if active else "deactivate"
    try:
        return JSON(await set_workflow_active(settings.services, None, ref, active))
    except WorkflowNotFound as exc:
        raise BadRequest(str(exc), status=404, code="not_found") from None
    except OperationFailed as exc:
        raise BadRequest(str(exc), status=503, code="not_configured") from None
    except IntegrationError as exc:
        if exc.category is ErrorCategory.NOT_FOUND:
            raise BadRequest(f"no workflow {ref!r} on n8n", status=404, code="not_found") from None
        if exc.category in _REFUSALS:
            raise BadRequest(
                f"n8n refused to {verb} {ref!r}: {exc.message}", status=409, code="n8n_refused"
            ) from None
        raise BadRequest(
            f"n8n could not be reached to {verb} {ref!r}: {exc.message}",
            status=502,
            code="n8n_unavailable",
        ) from None


@router.post("/workflows/{workflow_id}/activate", summary="Activate an n8n workflow (operate)")
async def activate(request: Request, grant: Operator, workflow_id: WorkflowRef) -> JSON:
    return await _switch(request, grant, workflow_id, True)


@router.post("/workflows/{workflow_id}/deactivate", summary="Deactivate an n8n workflow (operate)")
async def deactivate(request: Request, grant: Operator, workflow_id: WorkflowRef) -> JSON:
    return await _switch(request, grant, workflow_id, False)
