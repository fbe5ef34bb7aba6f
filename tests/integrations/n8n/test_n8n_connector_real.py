"""The connector's key behaviours against a REAL n8n.

Runs only when ``MASTEROPS_N8N_URL`` and ``MASTEROPS_N8N_API_KEY`` are set (start one with
``ci/provision-n8n.sh`` or ``shared/tools/run-n8n.sh``). Everything is created under a
unique name and deleted afterwards, so the server keeps no litter.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from n8n_conn_helpers import chain, noop_node, stop_node, webhook_node

from masterops.integrations.base import (
    ConnectorRuntime,
    ErrorCategory,
    IntegrationError,
    RetryPolicy,
)
from masterops.integrations.n8n import Execution, N8nConnector, Workflow
from masterops.observability.events import EventRecorder

REAL_URL = os.environ.get("MASTEROPS_N8N_URL", "")
REAL_KEY = os.environ.get("MASTEROPS_N8N_API_KEY", "")

pytestmark = [
    pytest.mark.real_n8n,
    pytest.mark.skipif(
        not (REAL_URL and REAL_KEY),
        reason="set MASTEROPS_N8N_URL and MASTEROPS_N8N_API_KEY to run against a real n8n",
    ),
]

RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, deadline=30.0)


@dataclass
class Real:
    n8n: N8nConnector
    runtime: ConnectorRuntime
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    workflows: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def name(self, label: str) -> str:
        return f"mo-test-{self.token}-{label}"

    def tag_name(self, label: str) -> str:
        return f"mo{self.token}{label}"[:24]  # n8n refuses tag names over 24 characters

    async def create(self, label: str, nodes: list[dict[str, object]]) -> Workflow:
        created = await self.n8n.create_workflow(self.name(label), nodes, chain(*nodes))
        self.workflows.append(created.id)
        return created

    async def fire(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=REAL_URL, timeout=30.0) as client:
            return await client.post(f"/webhook/{path}", json={"n": 1})

    async def settled(self, workflow_id: str, count: int) -> list[Execution]:
        """The workflow's executions once ``count`` exist and none is still being saved."""
        for _ in range(100):
            found = [e async for e in self.n8n.list_executions(workflow_id=workflow_id)]
            if len(found) >= count and all(e.status not in ("new", "running") for e in found):
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"{count} settled executions did not appear")

    async def cleanup(self) -> None:
        # A test may have deleted some already: a 404 here is fine.
        for workflow_id in self.workflows:
            with contextlib.suppress(IntegrationError):
                await self.n8n.delete_workflow(workflow_id)
        for tag_id in self.tags:
            with contextlib.suppress(IntegrationError):
                await self.n8n.delete_tag(tag_id)


def connector(runtime: ConnectorRuntime, api_key: str = REAL_KEY) -> N8nConnector:
    return N8nConnector(
        business_id="teelixir",
        runtime=runtime,
        base_url=REAL_URL,
        api_key=api_key,
        retry=RETRY,
        account=REAL_URL,
    )


@pytest.fixture
async def real(runtime: ConnectorRuntime) -> AsyncIterator[Real]:
    async with connector(runtime) as n8n:
        state = Real(n8n, runtime)
        try:
            yield state
        finally:
            await state.cleanup()


def said(recorder: EventRecorder, *texts: str) -> str:
    return "\n".join([*texts, *(repr(e) for e in recorder.events)])


async def test_health_is_healthy(real: Real, recorder: EventRecorder) -> None:
    result = await real.n8n.health()
    assert result.status == "healthy", result.message
    assert REAL_KEY not in said(recorder, str(result))


async def test_wrong_and_missing_keys_are_authentication(
    runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    wrong = "n8n_api_" + uuid.uuid4().hex
    for key, message in ((wrong, "unauthorized"), ("", "'X-N8N-API-KEY' header required")):
        async with connector(runtime, key) as n8n:
            with pytest.raises(IntegrationError) as caught:
                [w async for w in n8n.list_workflows()]
            health = await n8n.health()
        assert caught.value.category is ErrorCategory.AUTHENTICATION
        assert caught.value.message == message
        assert health.status == "down"
    assert wrong not in said(recorder) and REAL_KEY not in said(recorder)


async def test_workflow_lifecycle(real: Real) -> None:
    created = await real.create("life", [webhook_node(real.name("life"))])
    assert created.settings.get("executionOrder") == "v1" and created.active is False
    updated = await real.n8n.update_workflow(created.id, name=real.name("renamed"))
    assert updated.name == real.name("renamed")
    assert updated.version_id != created.version_id
    assert [n.webhook_id for n in updated.nodes] == [n.webhook_id for n in created.nodes]
    assert (await real.n8n.activate(created.id)).active is True
    assert (await real.n8n.deactivate(created.id)).active is False
    assert (await real.n8n.delete_workflow(created.id)).id == created.id
    with pytest.raises(IntegrationError) as caught:
        await real.n8n.get_workflow(created.id)
    assert caught.value.category is ErrorCategory.NOT_FOUND


async def test_missing_settings_and_no_trigger_are_validation_errors(real: Real) -> None:
    body = {"name": real.name("nosettings"), "nodes": [noop_node()], "connections": {}}
    with pytest.raises(IntegrationError) as caught:
        await real.n8n.request("POST", "/api/v1/workflows", json=body, operation="create_workflow")
    assert caught.value.category is ErrorCategory.VALIDATION
    assert caught.value.message == "request/body must have required property 'settings'"
    plain = await real.create("plain", [noop_node()])
    with pytest.raises(IntegrationError) as caught:
        await real.n8n.activate(plain.id)
    assert caught.value.category is ErrorCategory.VALIDATION


async def test_paging_ends_on_a_null_cursor(real: Real, recorder: EventRecorder) -> None:
    for i in range(3):
        await real.create(f"page{i}", [noop_node()])
    before = len(recorder.api_calls)
    listed = [w async for w in real.n8n.list_workflows(name=real.name("page"), page_size=1)]
    assert len(listed) == 3
    pages = [c for c in recorder.api_calls[before:] if c.operation == "list_workflows"]
    assert len(pages) == 3


async def test_tags_conflict_and_workflow_tags(real: Real) -> None:
    tag = await real.n8n.create_tag(real.tag_name("a"))
    real.tags.append(tag.id)
    with pytest.raises(IntegrationError) as caught:
        await real.n8n.create_tag(real.tag_name("a"))
    assert caught.value.category is ErrorCategory.CONFLICT and caught.value.status == 409
    renamed = await real.n8n.update_tag(tag.id, real.tag_name("b"))
    assert renamed.name == real.tag_name("b")
    assert (await real.n8n.get_tag(tag.id)).name == real.tag_name("b")
    created = await real.create("tagged", [noop_node()])
    assert [t.id for t in await real.n8n.set_tags(created.id, [tag.id])] == [tag.id]
    assert [t.id for t in await real.n8n.get_tags(created.id)] == [tag.id]
    found = [w.id async for w in real.n8n.list_workflows(tags=[real.tag_name("b")])]
    assert found == [created.id]
    assert tag.id in {t.id async for t in real.n8n.list_tags(page_size=250)}


async def test_failing_webhook_stats_retry_and_delete(real: Real) -> None:
    path = real.name("fail")
    nodes = [webhook_node(path), stop_node("real failure", name="Boom")]
    created = await real.create("fail", nodes)
    await real.n8n.activate(created.id)
    since = datetime.now(UTC) - timedelta(minutes=1)
    for _ in range(2):
        response = await real.fire(path)
        assert response.status_code == 500
        assert response.json() == {"message": "Error in workflow"}
    failed = await real.settled(created.id, 2)
    assert all(e.status == "error" and e.mode == "webhook" for e in failed)

    [stats] = await real.n8n.workflow_stats(since=since, workflow_id=created.id)
    assert (stats.total, stats.failed, stats.success_rate) == (2, 2, 0.0)
    assert [(f.error_message, f.error_node) for f in stats.recent_failures] == [
        ("real failure", "Boom")
    ] * 2

    full = await real.n8n.get_execution(failed[0].id, include_data=True)
    assert (full.error_message, full.error_node) == ("real failure", "Boom")
    retried = await real.n8n.retry_execution(failed[0].id)
    assert retried.mode == "retry" and retried.retry_of == failed[0].id
    await real.settled(created.id, 3)
    assert (await real.n8n.delete_execution(failed[1].id)).id == failed[1].id
    with pytest.raises(IntegrationError) as caught:
        await real.n8n.get_execution(failed[1].id)
    assert caught.value.category is ErrorCategory.NOT_FOUND


async def test_unknown_execution_and_retry_are_not_found(real: Real) -> None:
    with pytest.raises(IntegrationError) as caught:
        await real.n8n.get_execution("987654321")
    assert caught.value.category is ErrorCategory.NOT_FOUND
    await real.create("anchor", [noop_node()])  # the retry route needs a workflow to exist
    with pytest.raises(IntegrationError) as caught:
        await real.n8n.retry_execution("987654321")
    assert caught.value.category is ErrorCategory.NOT_FOUND


async def test_status_filter_is_checked_and_each_valid_one_accepted(real: Real) -> None:
    with pytest.raises(ValueError, match="canceled, error, running, success, waiting"):
        [e async for e in real.n8n.list_executions(status="crashed")]
    for status in ("canceled", "error", "running", "success", "waiting"):
        [e async for e in real.n8n.list_executions(status=status, page_size=1)]
