"""Production webhooks of the n8n sandbox: response modes, bodies, nodes built to fail."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.n8n import N8nSandbox, build_n8n

KEY = "webhook-test-key"


@pytest.fixture
def sandbox_and_client() -> tuple[N8nSandbox, httpx.AsyncClient]:
    sandbox, harness = build_n8n(KEY, seed_data=False)
    client = httpx.AsyncClient(transport=SandboxTransport(app=harness), base_url="http://n8n.local")
    return sandbox, client


@pytest.fixture
async def sandbox(
    sandbox_and_client: tuple[N8nSandbox, httpx.AsyncClient],
) -> AsyncIterator[N8nSandbox]:
    yield sandbox_and_client[0]
    await sandbox_and_client[1].aclose()


@pytest.fixture
def client(sandbox_and_client: tuple[N8nSandbox, httpx.AsyncClient]) -> httpx.AsyncClient:
    return sandbox_and_client[1]


def hook(path: str, mode: str = "lastNode", method: str = "POST", **params: Any) -> dict[str, Any]:
    return {
        "name": "Hook",
        "type": "n8n-nodes-base.webhook",
        "webhookId": f"id-{path}",
        "parameters": {"path": path, "httpMethod": method, "responseMode": mode, **params},
    }


def node(name: str, kind: str, **parameters: Any) -> dict[str, Any]:
    return {"name": name, "type": f"n8n-nodes-base.{kind}", "parameters": parameters}


def deploy(sandbox: N8nSandbox, *nodes: dict[str, Any]) -> dict[str, Any]:
    connections = {
        a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]}
        for a, b in itertools.pairwise(nodes)
    }
    return sandbox.create_workflow("hook test", list(nodes), connections, active=True)


async def test_last_node_answers_with_set_fields_and_resolved_expressions(
    sandbox: N8nSandbox, client: httpx.AsyncClient
) -> None:
    fields = [
        {"name": "order", "value": "={{ $json.body.order.id }}", "type": "string"},
        {"name": "qty", "value": "3", "type": "number"},
        {"name": "label", "value": "=Order {{ $json.body.order.id }} ok", "type": "string"},
    ]
    deploy(sandbox, hook("set"), node("Set", "set", assignments={"assignments": fields}))
    response = await client.post("/webhook/set", json={"order": {"id": "SO-9"}})
    assert response.status_code == 200
    assert response.json() == {"order": "SO-9", "qty": 3, "label": "Order SO-9 ok"}


async def test_on_received_answers_before_the_run(
    sandbox: N8nSandbox, client: httpx.AsyncClient
) -> None:
    wf = deploy(sandbox, hook("recv", mode="onReceived"), node("Boom", "stopAndError"))
    response = await client.post("/webhook/recv", json={})
    assert response.status_code == 200
    assert response.json() == {"message": "Workflow was started"}
    assert sandbox.executions(workflow_id=wf["id"])[0]["status"] == "error"


async def test_respond_to_webhook_node_decides_the_answer(
    sandbox: N8nSandbox, client: httpx.AsyncClient
) -> None:
    respond = node(
        "Respond",
        "respondToWebhook",
        respondWith="json",
        responseBody='={"accepted": true}',
        options={"responseCode": 202},
    )
    deploy(sandbox, hook("respond", mode="responseNode"), respond)
    response = await client.post("/webhook/respond", json={})
    assert response.status_code == 202
    assert response.json() == {"accepted": True}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("throw new Error('bad row');", "bad row [line 1]"),
        ('const x = 1;\n\nthrow new Error("third line");', "third line [line 3]"),
        ("if (!$json.ok) { throw 'plain string'; }", "plain string [line 1]"),
    ],
)
async def test_code_node_that_throws_fails_with_its_message_and_line(
    sandbox: N8nSandbox, client: httpx.AsyncClient, code: str, message: str
) -> None:
    wf = deploy(sandbox, hook("code"), node("Code", "code", jsCode=code))
    response = await client.post("/webhook/code", json={})
    assert response.status_code == 500
    [execution] = sandbox.executions(workflow_id=wf["id"])
    full = sandbox.store.executions[int(execution["id"])].data
    assert full is not None
    assert full["resultData"]["error"]["message"] == message
    assert full["resultData"]["error"]["node"]["name"] == "Code"


async def test_code_node_without_throw_passes_items_through(
    sandbox: N8nSandbox, client: httpx.AsyncClient
) -> None:
    deploy(sandbox, hook("pass"), node("Code", "code", jsCode="return $input.all();"))
    response = await client.post("/webhook/pass?x=1&x=2", json={"a": 1})
    body = response.json()
    assert body["body"] == {"a": 1}
    assert body["query"] == {"x": ["1", "2"]}
    assert body["executionMode"] == "production"
    assert body["webhookUrl"] == "http://n8n.local/webhook/pass"


async def test_bodies_are_parsed_like_n8n(sandbox: N8nSandbox, client: httpx.AsyncClient) -> None:
    deploy(sandbox, hook("body"))
    form = await client.post("/webhook/body", data={"a": "1", "b": "2"})
    assert form.json()["body"] == {"a": "1", "b": "2"}
    text = await client.post(
        "/webhook/body", content=b"hello", headers={"content-type": "text/plain"}
    )
    assert text.json()["body"] == "hello"
    bad = await client.post(
        "/webhook/body", content=b"{bad", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 422
    assert bad.json()["message"] == "Failed to parse request body"


async def test_get_webhook_and_method_hint(sandbox: N8nSandbox, client: httpx.AsyncClient) -> None:
    deploy(sandbox, hook("both", method="GET"))
    assert (await client.get("/webhook/both")).status_code == 200
    wrong = await client.delete("/webhook/both")
    assert wrong.status_code == 404
    assert "Did you mean to make a GET request?" in wrong.json()["message"]


async def test_webhook_without_webhook_id_is_not_registered(
    sandbox: N8nSandbox, client: httpx.AsyncClient
) -> None:
    bare = hook("bare")
    del bare["webhookId"]
    deploy(sandbox, bare)
    assert (await client.post("/webhook/bare")).status_code == 404


async def test_test_webhooks_are_never_listening(client: httpx.AsyncClient) -> None:
    response = await client.post("/webhook-test/anything")
    assert response.status_code == 404
    assert response.json()["hint"].startswith("Click the 'Execute workflow' button")


async def test_updating_an_active_workflow_moves_its_webhook(
    sandbox: N8nSandbox, client: httpx.AsyncClient
) -> None:
    wf = deploy(sandbox, hook("old-path"))
    body = {
        "name": wf["name"],
        "nodes": [hook("new-path")],
        "connections": {},
        "settings": {},
    }
    response = await client.put(
        f"/api/v1/workflows/{wf['id']}", json=body, headers={"X-N8N-API-KEY": KEY}
    )
    assert response.status_code == 200
    assert response.json()["active"] is True
    assert (await client.post("/webhook/old-path")).status_code == 404
    assert (await client.post("/webhook/new-path")).status_code == 200


async def test_retry_with_load_workflow_runs_the_fixed_version(
    sandbox: N8nSandbox, client: httpx.AsyncClient
) -> None:
    wf = deploy(sandbox, hook("fixme"), node("Boom", "stopAndError", errorMessage="broken"))
    await client.post("/webhook/fixme", json={"n": 1})
    [failed] = sandbox.executions(workflow_id=wf["id"])
    headers = {"X-N8N-API-KEY": KEY}
    fixed = {
        "name": wf["name"],
        "nodes": [hook("fixme"), node("Boom", "noOp")],
        "connections": wf["connections"],
        "settings": {},
    }
    await client.put(f"/api/v1/workflows/{wf['id']}", json=fixed, headers=headers)
    again = await client.post(f"/api/v1/executions/{failed['id']}/retry", headers=headers)
    assert again.json()["status"] == "error"  # the saved version still fails
    loaded = await client.post(
        f"/api/v1/executions/{failed['id']}/retry", json={"loadWorkflow": True}, headers=headers
    )
    assert loaded.json()["status"] == "success"
    original = await client.get(f"/api/v1/executions/{failed['id']}", headers=headers)
    assert original.json()["retrySuccessId"] == loaded.json()["id"]
