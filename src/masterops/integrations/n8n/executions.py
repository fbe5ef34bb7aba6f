"""Executions: ``/api/v1/executions`` (list newest first, read, delete, retry)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.n8n.client import API, N8nClientBase, aware_utc
from masterops.integrations.n8n.models import EXECUTION_STATUS_FILTERS, Execution


def check_status_filter(status: str | None) -> str | None:
    """``status`` if the executions list accepts it; a ``ValueError`` naming the allowed
    values otherwise (the server would answer 400)."""
    if status is None or status in EXECUTION_STATUS_FILTERS:
        return status
    allowed = ", ".join(EXECUTION_STATUS_FILTERS)
    hint = " (crashed runs are listed under 'error')" if status == "crashed" else ""
    raise ValueError(f"unknown execution status filter {status!r}: use one of {allowed}{hint}")


class ExecutionsApi(N8nClientBase):
    """Execution calls of ``N8nConnector``."""

    async def list_executions(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        include_data: bool = False,
        page_size: int = 100,
        since: datetime | None = None,
    ) -> AsyncGenerator[Execution, None]:
        """Executions, newest first. With ``since``, paging stops at the first execution
        that started before it (ids follow start order). Without a ``status`` the server
        leaves out running executions. ``status`` is checked here: ``ValueError`` for
        anything but canceled|error|running|success|waiting.
        """
        params: dict[str, Any] = {}
        if check_status_filter(status) is not None:
            params["status"] = status
        if workflow_id is not None:
            params["workflowId"] = workflow_id
        if include_data:
            params["includeData"] = "true"
        cutoff = None if since is None else aware_utc(since)
        pages = self._pages(
            "/executions", operation="list_executions", params=params, page_size=page_size
        )
        # aclosing: stopping early must not leave the page generator suspended.
        async with contextlib.aclosing(pages):
            async for page in pages:
                for item in page:
                    execution = Execution.model_validate(item)
                    started = execution.started_at
                    if cutoff is not None and started is not None and started < cutoff:
                        return
                    yield execution

    async def get_execution(
        self, execution_id: str, *, include_data: bool = False, missing_expected: bool = False
    ) -> Execution:
        """One execution; ``NOT_FOUND`` when there is none (logged at debug level with
        ``missing_expected``, for a caller that is looking whether it exists)."""
        data = await self._json(
            "GET",
            "/executions/{id}",
            path_params={"id": execution_id},
            params={"includeData": "true"} if include_data else None,
            operation="get_execution",
            expected_statuses=(404,) if missing_expected else (),
        )
        return Execution.model_validate(data)

    async def delete_execution(self, execution_id: str) -> Execution:
        """Delete a finished execution (400 for a running one); returns it."""
        data = await self._json(
            "DELETE",
            "/executions/{id}",
            path_params={"id": execution_id},
            operation="delete_execution",
        )
        return Execution.model_validate(data)

    async def retry_execution(self, execution_id: str, *, load_workflow: bool = False) -> Execution:
        """Run a failed execution again; returns the new ``retry`` execution.

        With ``load_workflow`` the current version of the workflow runs, else the version
        that failed. Not repeated automatically: each attempt starts a run. A successful
        execution cannot be retried (400). On an n8n whose public API has no retry route
        this raises an ``IntegrationError`` saying so, not a misleading "not found".
        """
        try:
            data = await self._json(
                "POST",
                "/executions/{id}/retry",
                path_params={"id": execution_id},
                json={"loadWorkflow": True} if load_workflow else None,
                operation="retry_execution",
            )
        except IntegrationError as exc:
            if exc.status == 405 or (exc.status == 404 and await self._exists(execution_id)):
                raise self._retry_unsupported(exc) from exc
            raise
        return Execution.model_validate(data)

    async def _exists(self, execution_id: str) -> bool:
        """Whether the execution exists: tells "no such execution" from "no such route"
        when a retry answers 404."""
        try:
            await self.get_execution(execution_id, missing_expected=True)
        except IntegrationError as exc:
            if exc.category is ErrorCategory.NOT_FOUND:
                return False
            raise
        return True

    def _retry_unsupported(self, exc: IntegrationError) -> IntegrationError:
        return IntegrationError(
            "this n8n does not support retrying executions through the public API "
            f"(POST {API}/executions/{{id}}/retry answered {exc.status}); "
            "upgrade n8n or retry from the editor",
            category=ErrorCategory.VALIDATION,
            service=self.service,
            operation="retry_execution",
            status=exc.status,
            retryable=False,
            details={"unsupported": True, "server_message": exc.message},
            endpoint=f"{API}/executions/{{id}}/retry",
        )
