"""``N8nConnector``: n8n's public REST API v1 (workflows, executions, tags, credentials),
per-workflow statistics and health.

Every call goes through ``BaseConnector.request()`` with the endpoint template as the
path, so retries, the breaker, the rate limit and telemetry apply, and ids never reach a
metric. The calls themselves live in ``workflows.py`` and ``executions.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.n8n.client import MAX_PAGE_SIZE, aware_utc
from masterops.integrations.n8n.credentials import CredentialsApi
from masterops.integrations.n8n.executions import ExecutionsApi
from masterops.integrations.n8n.models import WorkflowStats
from masterops.integrations.n8n.stats import StatsBuilder
from masterops.integrations.n8n.workflows import WorkflowsApi


class N8nConnector(WorkflowsApi, ExecutionsApi, CredentialsApi):
    """One n8n instance's public API for one business.

    ``N8nConnector(business_id=..., runtime=..., base_url="http://127.0.0.1:5678",
    api_key=...)``; ``base_url`` is the server root. Pass ``account`` (the base URL, say)
    when several businesses share one instance, so they share its bucket and breaker.
    """

    service = "n8n"

    async def workflow_stats(
        self,
        *,
        since: datetime,
        workflow_id: str | None = None,
        recent_failures: int = 5,
        page_size: int = 250,
    ) -> list[WorkflowStats]:
        """Per workflow: runs since ``since``, successes, failures, success rate, the last
        failure and the ``recent_failures`` newest failures with their error message and
        failing node. Every workflow appears (with zeros when it did not run), ordered by
        name; with ``workflow_id`` only that one (404 if it does not exist).

        Two passes: all executions without their (large) run data to count, then the
        failures with data, stopping once the newest failures of every workflow are known.
        """
        since = aware_utc(since)
        if workflow_id is not None:
            workflows = [await self.get_workflow(workflow_id)]
        else:
            workflows = [w async for w in self.list_workflows(page_size=MAX_PAGE_SIZE)]
        builder = StatsBuilder(workflows, since=since, keep_failures=recent_failures)
        async for execution in self.list_executions(
            workflow_id=workflow_id, since=since, page_size=page_size
        ):
            builder.count(execution)
        if builder.wanted_failures:
            # Run data is large: smaller pages keep each answer reasonable.
            failures = self.list_executions(
                status="error",
                workflow_id=workflow_id,
                include_data=True,
                since=since,
                page_size=min(page_size, 50),
            )
            async with contextlib.aclosing(failures):
                async for execution in failures:
                    builder.describe(execution)
                    if builder.all_described:
                        break
        return builder.result()

    # -- health ------------------------------------------------------------------------

    async def probe(self) -> Mapping[str, Any] | None:
        """Ready (``/healthz/readiness``) and the API key works (one workflow listed).

        A 503 from readiness is n8n saying its database is not ready (starting up,
        migrating): it is reported at once rather than retried.
        """
        no_503 = self.retry_policy.retry_statuses - {503}
        readiness_policy = dataclasses.replace(self.retry_policy, retry_statuses=no_503)
        try:
            await self.request(
                "GET", "/healthz/readiness", operation="health_readiness", retry=readiness_policy
            )
        except IntegrationError as exc:
            if exc.status == 503:
                raise IntegrationError(
                    "n8n is running but not ready: its database is not ready "
                    "(starting up or migrating); /healthz/readiness answered 503",
                    category=ErrorCategory.SERVER,
                    service=self.service,
                    operation="health_readiness",
                    status=503,
                    retryable=True,
                    details={"server_message": exc.message},
                    endpoint="/healthz/readiness",
                ) from exc
            raise
        page = await self._json("GET", "/workflows", params={"limit": 1}, operation="health_probe")
        listed = len(page.get("data") or []) if isinstance(page, dict) else 0
        return {"ready": True, "authenticated": True, "workflows_visible": listed > 0}
