"""The n8n sandbox's switches: readiness, fault injection, the control routes, the Python API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from masterops_sandbox.harness import SandboxTransport, ServiceHarness
from masterops_sandbox.n8n import N8nSandbox, build_n8n

KEY = "controls-test-key"


@pytest.fixture
def built() -> tuple[N8nSandbox, ServiceHarness]:
    return build_n8n(KEY, seed=1)


@pytest.fixture
async def api(built: tuple[N8nSandbox, ServiceHarness]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=SandboxTransport(app=built[1]),
        base_url="http://n8n.sandbox",
        headers={"X-N8N-API-KEY": KEY},
    ) as client:
        yield client


def webhook_workflow(path: str, tail: dict[str, Any] | None = None) -> dict[str, Any]:
    hook = {
        "name": "Hook",
        "type": "n8n-nodes-base.webhook",
        "webhookId": "11111111-1111-4111-8111-111111111111",
        "parameters": {"path": path, "httpMethod": "POST", "responseMode": "lastNode"},
    }
    nodes: list[dict[str, Any]] = [hook]
    connections: dict[str, Any] = {}
    if tail is not None:
        nodes.append(tail)
        connections = {"Hook": {"main": [[{"node": tail["name"], "type": "main", "index": 0}]]}}
    return {"nodes": nodes, "connections": connections}


async def test_readiness_switch(
    built: tuple[N8nSandbox, ServiceHarness], api: httpx.AsyncClient
) -> None:
    sandbox, _ = built
    sandbox.set_ready(False)
    response = await api.get("/healthz/readiness")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}
    assert (await api.get("/healthz")).json() == {"status": "ok"}  # liveness stays up
    sandbox.set_ready(True)
    assert (await api.get("/healthz/readiness")).status_code == 200


async def test_faults_through_the_control_route(api: httpx.AsyncClient) -> None:
    switched = await api.put("/_sandbox/faults", json={"rate_5xx": 1.0, "status_5xx": 502})
    assert switched.status_code == 200
    assert switched.json()["rate_5xx"] == 1.0
    failed = await api.get("/api/v1/workflows")
    assert failed.status_code == 502
    state = (await api.get("/_sandbox/state")).json()
    assert state["service"] == "n8n"
    assert state["injected"] == {"5xx": 1}
    assert (await api.delete("/_sandbox/faults")).status_code == 200
    assert (await api.get("/api/v1/workflows")).status_code == 200


async def test_rate_limit_fault_only_on_matching_paths(api: httpx.AsyncClient) -> None:
    await api.put(
        "/_sandbox/faults",
        json={"rate_429": 1.0, "retry_after": 3, "path_pattern": "^/api/v1/executions"},
    )
    limited = await api.get("/api/v1/executions")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert (await api.get("/api/v1/workflows")).status_code == 200


async def test_dropped_connection_surfaces_as_a_protocol_error(api: httpx.AsyncClient) -> None:
    await api.put("/_sandbox/faults", json={"rate_drop": 1.0})
    with pytest.raises(httpx.RemoteProtocolError):
        await api.get("/api/v1/tags")


async def test_bad_fault_switch_is_400(api: httpx.AsyncClient) -> None:
    response = await api.put("/_sandbox/faults", json={"rate_5xx": 2})
    assert response.status_code == 400
    assert "rate_5xx" in response.json()["message"]


async def test_state_and_call_log(api: httpx.AsyncClient) -> None:
    state = (await api.get("/_sandbox/state")).json()["state"]
    assert state["ready"] is True
    assert state["workflows"] == 18
    assert state["executions"] > 0
    assert "POST boo/order-created" in state["webhooks"]
    await api.get("/api/v1/workflows")
    some_id = (await api.get("/api/v1/workflows?limit=1")).json()["data"][0]["id"]
    await api.get(f"/api/v1/workflows/{some_id}")
    calls = (await api.get("/_sandbox/calls")).json()
    endpoints = {(c["method"], c["endpoint"]): c["count"] for c in calls["calls"]}
    assert endpoints[("GET", "/api/v1/workflows")] == 2
    assert endpoints[("GET", "/api/v1/workflows/{id}")] == 1


async def test_python_api_shapes_the_instance(
    built: tuple[N8nSandbox, ServiceHarness], api: httpx.AsyncClient
) -> None:
    sandbox, harness = built
    stop: dict[str, Any] = {
        "name": "Stop",
        "type": "n8n-nodes-base.stopAndError",
        "parameters": {"errorMessage": "made to fail"},
    }
    created = sandbox.create_workflow(
        "Tests \u2013 broken hook", **webhook_workflow("tests/broken", stop), active=True,
        tags=["tests", "teelixir"],
    )  # fmt: skip
    assert created["active"] is True
    assert {t["name"] for t in created["tags"]} == {"tests", "teelixir"}
    assert sandbox.workflow_by_name("Tests \u2013 broken hook")["id"] == created["id"]  # type: ignore[index]

    response = await api.post("/webhook/tests/broken", json={})
    assert response.status_code == 500
    [execution] = sandbox.executions(workflow_id=created["id"])
    assert execution["status"] == "error"

    recorded = sandbox.record_execution(
        created["id"], status="error", error_message="HubSpot said no", error_node="Stop"
    )
    got = await api.get(f"/api/v1/executions/{recorded['id']}", params={"includeData": "true"})
    assert got.json()["data"]["resultData"]["error"]["message"] == "HubSpot said no"

    ran = sandbox.run(created["id"])
    assert ran["mode"] == "manual" and ran["status"] == "error"
    assert harness.call_count("/webhook/{path:path}", "POST") == 1

    sandbox.deactivate(created["id"])
    assert (await api.post("/webhook/tests/broken", json={})).status_code == 404


def test_python_activation_refusal_is_a_value_error(
    built: tuple[N8nSandbox, ServiceHarness],
) -> None:
    sandbox, _ = built
    lonely = sandbox.create_workflow(
        "no trigger", [{"name": "n", "type": "n8n-nodes-base.noOp", "parameters": {}}]
    )
    with pytest.raises(ValueError, match="has no node to start the workflow"):
        sandbox.activate(lonely["id"])
    with pytest.raises(KeyError):
        sandbox.activate("missing")
    with pytest.raises(ValueError, match="unknown execution status"):
        sandbox.record_execution(lonely["id"], status="exploded")


async def test_api_key_can_be_rotated(
    built: tuple[N8nSandbox, ServiceHarness], api: httpx.AsyncClient
) -> None:
    sandbox, _ = built
    sandbox.api_key = "rotated"
    assert (await api.get("/api/v1/tags")).status_code == 401
    response = await api.get("/api/v1/tags", headers={"X-N8N-API-KEY": "rotated"})
    assert response.status_code == 200


async def test_trailing_slash_is_ignored_like_express(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/tags/")
    assert response.status_code == 200
    assert "data" in response.json()


async def test_retry_on_an_instance_without_workflows_is_a_plain_404() -> None:
    _, harness = build_n8n(KEY, seed_data=False)
    async with httpx.AsyncClient(
        transport=SandboxTransport(app=harness), base_url="http://n8n.sandbox"
    ) as client:
        response = await client.post("/api/v1/executions/1/retry", headers={"X-N8N-API-KEY": KEY})
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


async def test_injected_429_is_n8ns_own_limit_answer(api: httpx.AsyncClient) -> None:
    unknown = await api.get("/api/v1/nosuch")  # one of n8n's own error answers
    assert unknown.status_code == 404
    await api.put("/_sandbox/faults", json={"rate_429": 1.0, "retry_after": 0.2})
    limited = await api.get("/api/v1/workflows")
    assert limited.status_code == 429
    # n8n's rate limiter (express-rate-limit) answers with its errors' {"message": ...} body.
    assert limited.json() == {"message": "Too many requests"}
    assert set(limited.headers) - {"retry-after"} == set(unknown.headers)
    assert limited.headers["content-type"] == unknown.headers["content-type"]
    assert limited.headers["retry-after"] == "1"  # whole seconds, rounded up
