"""N8nConnector executions against the in-process n8n sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from n8n_conn_helpers import BASE_URL, N8nEnv, chain, noop_node, stop_node, webhook_node
from starlette.types import ASGIApp, Receive, Scope, Send

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.n8n import N8nConnector
from masterops_sandbox.harness import SandboxTransport, ServiceHarness

EXECUTIONS = "/api/v1/executions"
EXECUTION = "/api/v1/executions/{id}"


async def fire(harness: ServiceHarness, path: str) -> httpx.Response:
    """Call a production webhook the way n8n's callers do (no API key)."""
    async with httpx.AsyncClient(
        transport=SandboxTransport(app=harness), base_url=BASE_URL
    ) as client:
        return await client.post(f"/webhook/{path}", json={"order": 1})


async def failing_workflow(n8n: N8nConnector, path: str, text: str = "price file broken") -> str:
    nodes = [webhook_node(path), stop_node(text, name="Parse prices")]
    created = await n8n.create_workflow(f"failing {path}", nodes, chain(*nodes))
    await n8n.activate(created.id)
    return created.id


def history(env: N8nEnv, hours_ago: list[float], **fields: Any) -> str:
    """A workflow with one execution per entry of ``hours_ago``, recorded oldest first
    (ids follow start times, as on a real server)."""
    wf = env.sandbox.create_workflow("history", [noop_node()])
    now = datetime.now(UTC)
    for hours in sorted(hours_ago, reverse=True):
        env.sandbox.record_execution(
            wf["id"],
            started_at=now - timedelta(hours=hours),
            **fields,
        )
    return str(wf["id"])


# -- listing ---------------------------------------------------------------------------


async def test_seeded_list_is_newest_first_with_string_ids(n8n: N8nConnector, env: N8nEnv) -> None:
    listed = [e async for e in n8n.list_executions(page_size=250)]
    ids = [int(e.id) for e in listed]
    assert ids == sorted(ids, reverse=True)
    # Without a status filter the running execution is left out, as on the real server.
    assert len(listed) == 599
    assert env.harness.call_count(EXECUTIONS, "GET") == 3  # 250 + 250 + 99
    assert all(e.started_at is not None and e.started_at.tzinfo is UTC for e in listed)
    assert all(isinstance(e.workflow_id, str) for e in listed)


async def test_paging_stops_at_the_null_cursor(empty_env: N8nEnv) -> None:
    workflow_id = history(empty_env, [float(h) for h in range(1, 11)])
    async with empty_env.connect() as n8n:
        listed = [e async for e in n8n.list_executions(workflow_id=workflow_id, page_size=4)]
    assert len(listed) == 10
    assert empty_env.harness.call_count(EXECUTIONS, "GET") == 3  # 4 + 4 + 2


async def test_since_stops_paging_at_the_first_older_execution(empty_env: N8nEnv) -> None:
    workflow_id = history(empty_env, [float(h) for h in range(1, 11)])
    since = datetime.now(UTC) - timedelta(hours=4.5)
    async with empty_env.connect() as n8n:
        recent = [
            e async for e in n8n.list_executions(workflow_id=workflow_id, since=since, page_size=2)
        ]
    assert len(recent) == 4
    assert all(e.started_at is not None and e.started_at >= since for e in recent)
    # Pages 1-2 hold the four recent runs; page 3 starts with an older one: no page 4.
    assert empty_env.harness.call_count(EXECUTIONS, "GET") == 3


async def test_a_naive_since_is_taken_as_utc(empty_env: N8nEnv) -> None:
    workflow_id = history(empty_env, [1.0, 3.0])
    naive = (datetime.now(UTC) - timedelta(hours=2)).replace(tzinfo=None)
    async with empty_env.connect() as n8n:
        recent = [e async for e in n8n.list_executions(workflow_id=workflow_id, since=naive)]
    assert len(recent) == 1


@pytest.mark.parametrize("status", ["crashed", "failed", "ERROR", "new", ""])
async def test_status_filter_is_validated_before_any_call(
    n8n: N8nConnector, env: N8nEnv, status: str
) -> None:
    with pytest.raises(ValueError, match="canceled, error, running, success, waiting"):
        [e async for e in n8n.list_executions(status=status)]
    assert env.harness.call_count() == 0


@pytest.mark.parametrize("status", ["canceled", "error", "running", "success", "waiting"])
async def test_each_valid_status_filters(n8n: N8nConnector, status: str) -> None:
    listed = [e async for e in n8n.list_executions(status=status, page_size=250)]
    # "error" also lists crashed runs, as the real server does.
    allowed = {"error", "crashed"} if status == "error" else {status}
    assert all(e.status in allowed for e in listed)
    if status in ("error", "success", "running"):
        assert listed


async def test_workflow_filter(n8n: N8nConnector, env: N8nEnv) -> None:
    workflow_id = env.sandbox.workflows()[0]["id"]
    listed = [e async for e in n8n.list_executions(workflow_id=workflow_id, page_size=250)]
    assert listed and {e.workflow_id for e in listed} == {workflow_id}
    assert [e async for e in n8n.list_executions(workflow_id="nope0000nope0000")] == []


# -- failing webhooks, run data --------------------------------------------------------


async def test_failing_webhook_execution_carries_error_and_node(empty_env: N8nEnv) -> None:
    async with empty_env.connect() as n8n:
        workflow_id = await failing_workflow(n8n, "prices/import")
        response = await fire(empty_env.harness, "prices/import")
        assert response.status_code == 500
        assert response.json() == {"message": "Error in workflow"}
        [bare] = [e async for e in n8n.list_executions(workflow_id=workflow_id)]
        [full] = [e async for e in n8n.list_executions(workflow_id=workflow_id, include_data=True)]
        fetched = await n8n.get_execution(full.id, include_data=True)
    assert bare.status == "error" and bare.mode == "webhook" and bare.finished is False
    assert bare.data is None and bare.error_message is None
    for execution in (full, fetched):
        assert execution.error_message == "price file broken"
        assert execution.error_node == "Parse prices"
        assert execution.failed
        assert execution.data is not None
    assert fetched.duration_s is not None and fetched.duration_s >= 0


async def test_get_execution(n8n: N8nConnector, env: N8nEnv) -> None:
    wanted = env.sandbox.executions()[0]
    got = await n8n.get_execution(wanted["id"])
    assert got.id == wanted["id"] and got.workflow_id == wanted["workflowId"]
    assert got.data is None


async def test_unknown_execution_is_not_found(n8n: N8nConnector) -> None:
    with pytest.raises(IntegrationError) as caught:
        await n8n.get_execution("987654321")
    assert caught.value.category is ErrorCategory.NOT_FOUND
    assert caught.value.message == "Not Found"
    with pytest.raises(IntegrationError) as caught:
        await n8n.delete_execution("987654321")
    assert caught.value.category is ErrorCategory.NOT_FOUND


async def test_a_non_numeric_execution_id_is_a_validation_error(n8n: N8nConnector) -> None:
    with pytest.raises(IntegrationError) as caught:
        await n8n.get_execution("abc")
    assert caught.value.category is ErrorCategory.VALIDATION
    assert caught.value.message == "request/params/id must be number"


async def test_delete_execution_returns_it_with_a_string_id(empty_env: N8nEnv) -> None:
    workflow_id = history(empty_env, [1.0])
    async with empty_env.connect() as n8n:
        [execution] = [e async for e in n8n.list_executions(workflow_id=workflow_id)]
        deleted = await n8n.delete_execution(execution.id)
        assert deleted.id == execution.id  # the server sends a number here
        assert [e async for e in n8n.list_executions(workflow_id=workflow_id)] == []


async def test_a_running_execution_cannot_be_deleted(empty_env: N8nEnv) -> None:
    workflow_id = history(empty_env, [0.1], status="running")
    async with empty_env.connect() as n8n:
        [running] = [
            e async for e in n8n.list_executions(workflow_id=workflow_id, status="running")
        ]
        assert running.stopped_at is None and running.duration_s is None
        with pytest.raises(IntegrationError) as caught:
            await n8n.delete_execution(running.id)
    assert caught.value.category is ErrorCategory.VALIDATION


# -- retry -----------------------------------------------------------------------------


async def test_retry_a_failed_execution(empty_env: N8nEnv) -> None:
    async with empty_env.connect() as n8n:
        workflow_id = await failing_workflow(n8n, "retry/me")
        await fire(empty_env.harness, "retry/me")
        [failed] = [e async for e in n8n.list_executions(workflow_id=workflow_id)]
        retried = await n8n.retry_execution(failed.id)
        again = await n8n.retry_execution(failed.id, load_workflow=True)
    assert retried.mode == "retry" and again.mode == "retry"
    assert retried.retry_of == failed.id  # a number in this answer, a string here
    assert retried.status == "error"
    assert retried.error_message == "price file broken"
    assert int(again.id) > int(retried.id) > int(failed.id)


async def test_a_successful_execution_cannot_be_retried(empty_env: N8nEnv) -> None:
    workflow_id = history(empty_env, [1.0])
    async with empty_env.connect() as n8n:
        [done] = [e async for e in n8n.list_executions(workflow_id=workflow_id)]
        with pytest.raises(IntegrationError) as caught:
            await n8n.retry_execution(done.id)
    assert caught.value.category is ErrorCategory.VALIDATION
    assert caught.value.message == "The execution succeeded, so it cannot be retried."
    assert empty_env.harness.call_count("/api/v1/executions/{id}/retry", "POST") == 1


async def test_retry_of_an_unknown_execution_is_not_found(n8n: N8nConnector, env: N8nEnv) -> None:
    with pytest.raises(IntegrationError) as caught:
        await n8n.retry_execution("987654321")
    assert caught.value.category is ErrorCategory.NOT_FOUND
    assert "does not exist" in caught.value.message
    assert "support" not in caught.value.message


def without_retry_route(harness: ServiceHarness, status: int) -> ASGIApp:
    """An older n8n: no ``POST /executions/{id}/retry`` in its public API."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/retry"):
            text = "not found" if status == 404 else "POST method not allowed"
            body = json.dumps({"message": text}).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await harness(scope, receive, send)

    return app


@pytest.mark.parametrize("status", [404, 405])
async def test_retry_on_an_n8n_without_the_route_says_so(env: N8nEnv, status: int) -> None:
    failed = env.sandbox.executions(status="error")[0]
    async with env.connect(app=without_retry_route(env.harness, status)) as n8n:
        with pytest.raises(IntegrationError) as caught:
            await n8n.retry_execution(failed["id"])
    error = caught.value
    assert "does not support retrying executions through the public API" in error.message
    assert error.status == status and not error.retryable
    assert error.details["unsupported"] is True


async def test_retry_404_for_a_missing_execution_on_an_old_n8n_is_not_found(env: N8nEnv) -> None:
    async with env.connect(app=without_retry_route(env.harness, 404)) as n8n:
        with pytest.raises(IntegrationError) as caught:
            await n8n.retry_execution("987654321")
    assert caught.value.category is ErrorCategory.NOT_FOUND
