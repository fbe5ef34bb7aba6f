"""What a client of n8n's public API v1 may rely on, checked on the sandbox and on a real n8n.

Every expectation here was first seen on a real n8n 1.123.81; when the two disagree,
the sandbox is wrong (see ``tests/contract/conftest.py`` for how the real leg runs).
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixture's type; conftest modules are not imported by name
    from tests.contract.conftest import N8nTarget

API = "/api/v1"


def decode(cursor: str) -> Any:
    return json.loads(base64.b64decode(cursor))


def webhook_node(path: str, *, mode: str = "lastNode", method: str = "POST") -> dict[str, Any]:
    return {
        "name": "Webhook",
        "type": "n8n-nodes-base.webhook",
        "typeVersion": 2,
        "position": [0, 0],
        "webhookId": str(uuid.uuid4()),
        "parameters": {"path": path, "httpMethod": method, "responseMode": mode},
    }


def set_node(name: str, field: str, value: str) -> dict[str, Any]:
    assignment = {"id": "1", "name": field, "value": value, "type": "string"}
    return {
        "name": name,
        "type": "n8n-nodes-base.set",
        "typeVersion": 3.4,
        "position": [220, 0],
        "parameters": {"assignments": {"assignments": [assignment]}, "options": {}},
    }


def stop_node(text: str) -> dict[str, Any]:
    return {
        "name": "Boom",
        "type": "n8n-nodes-base.stopAndError",
        "typeVersion": 1,
        "position": [220, 0],
        "parameters": {"errorMessage": text},
    }


def chain(name: str, *nodes: dict[str, Any]) -> dict[str, Any]:
    connections = {
        a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]}
        for a, b in itertools.pairwise(nodes)
    }
    return {"name": name, "nodes": list(nodes), "connections": connections, "settings": {}}


def plain_workflow(name: str) -> dict[str, Any]:
    noop = {
        "name": "Nothing",
        "type": "n8n-nodes-base.noOp",
        "typeVersion": 1,
        "position": [0, 0],
        "parameters": {},
    }
    return {"name": name, "nodes": [noop], "connections": {}, "settings": {}}


# -- authentication, routing, bodies ------------------------------------------------------


async def test_missing_api_key_is_401_with_header_required(n8n: N8nTarget) -> None:
    response = await n8n.plain.get(f"{API}/workflows")
    assert response.status_code == 401
    assert response.json() == {"message": "'X-N8N-API-KEY' header required"}


async def test_wrong_api_key_is_401_unauthorized(n8n: N8nTarget) -> None:
    response = await n8n.plain.get(f"{API}/workflows", headers={"X-N8N-API-KEY": "nope"})
    assert response.status_code == 401
    assert response.json() == {"message": "unauthorized"}


async def test_unknown_path_is_404_and_wrong_method_405(n8n: N8nTarget) -> None:
    response = await n8n.api.get(f"{API}/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"message": "not found"}
    response = await n8n.api.patch(f"{API}/workflows")
    assert response.status_code == 405
    assert response.json() == {"message": "PATCH method not allowed"}


async def test_unparseable_json_body_is_a_500_html_page(n8n: N8nTarget) -> None:
    # api-facts.md says 400; the real server's body parser throws and Express answers 500.
    response = await n8n.api.post(
        f"{API}/workflows", content=b"{bad", headers={"content-type": "application/json"}
    )
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")


async def test_unknown_query_parameter_is_400(n8n: N8nTarget) -> None:
    response = await n8n.api.get(f"{API}/workflows", params={"foo": "1"})
    assert response.status_code == 400
    assert response.json() == {"message": "Unknown query parameter 'foo'"}


async def test_health_and_readiness(n8n: N8nTarget) -> None:
    assert (await n8n.plain.get("/healthz")).json() == {"status": "ok"}
    response = await n8n.plain.get("/healthz/readiness")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# -- workflows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("settings", "request/body must have required property 'settings'"),
        ("nodes", "request/body must have required property 'nodes'"),
        ("name", "request/body must have required property 'name'"),
    ],
)
async def test_create_workflow_requires_each_field(
    n8n: N8nTarget, missing: str, message: str
) -> None:
    body = plain_workflow(n8n.unique("missing"))
    del body[missing]
    response = await n8n.api.post(f"{API}/workflows", json=body)
    assert response.status_code == 400
    assert response.json() == {"message": message}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"active": True}, "request/body/active is read-only"),
        ({"id": "abc"}, "request/body/id is read-only"),
        ({"tags": []}, "request/body/tags is read-only"),
        ({"pinData": {}}, "request/body must NOT have additional properties"),
        ({"settings": {"bogus": 1}}, "request/body/settings must NOT have additional properties"),
        ({"nodes": {}}, "request/body/nodes must be array"),
    ],
)
async def test_create_workflow_refuses_read_only_and_unknown_fields(
    n8n: N8nTarget, extra: dict[str, Any], message: str
) -> None:
    body = {**plain_workflow(n8n.unique("ro")), **extra}
    response = await n8n.api.post(f"{API}/workflows", json=body)
    assert response.status_code == 400
    assert response.json() == {"message": message}


async def test_workflow_lifecycle(n8n: N8nTarget) -> None:
    name = n8n.unique("life")
    body = plain_workflow(name)
    body["settings"] = {"executionOrder": "v1", "timezone": "Australia/Melbourne"}
    created = await n8n.create_workflow(body)
    assert isinstance(created["id"], str) and len(created["id"]) == 16
    assert created["active"] is False
    assert created["name"] == name
    assert created["settings"]["timezone"] == "Australia/Melbourne"
    assert created["settings"]["callerPolicy"] == "workflowsFromSameOwner"
    assert all(isinstance(node["id"], str) for node in created["nodes"])
    assert {"createdAt", "updatedAt", "versionId"} <= created.keys()
    assert "tags" not in created  # only a read shows tags

    fetched = (await n8n.api.get(f"{API}/workflows/{created['id']}")).json()
    assert fetched["tags"] == []
    assert fetched["versionId"] == created["versionId"]
    assert fetched["shared"][0]["role"] == "workflow:owner"

    body["name"] = name + "-renamed"
    response = await n8n.api.put(f"{API}/workflows/{created['id']}", json=body)
    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == name + "-renamed"
    assert updated["versionId"] != created["versionId"]
    assert updated["tags"] == []

    version = await n8n.api.get(f"{API}/workflows/{created['id']}/{updated['versionId']}")
    assert version.status_code == 200
    assert version.json()["versionId"] == updated["versionId"]
    missing = await n8n.api.get(f"{API}/workflows/{created['id']}/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Version not found"}

    deleted = await n8n.api.delete(f"{API}/workflows/{created['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["id"] == created["id"]
    gone = await n8n.api.get(f"{API}/workflows/{created['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"message": "Not Found"}


async def test_unknown_workflow_is_404_everywhere(n8n: N8nTarget) -> None:
    body = plain_workflow("x")
    for method, path, payload in [
        ("GET", "/workflows/nope0000nope0000", None),
        ("DELETE", "/workflows/nope0000nope0000", None),
        ("PUT", "/workflows/nope0000nope0000", body),
        ("POST", "/workflows/nope0000nope0000/activate", None),
        ("POST", "/workflows/nope0000nope0000/deactivate", None),
        ("GET", "/workflows/nope0000nope0000/tags", None),
    ]:
        response = await n8n.api.request(method, API + path, json=payload)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"message": "Not Found"}


async def test_activation_needs_a_trigger(n8n: N8nTarget) -> None:
    created = await n8n.create_workflow(plain_workflow(n8n.unique("notrigger")))
    response = await n8n.api.post(f"{API}/workflows/{created['id']}/activate")
    assert response.status_code == 400
    text = response.json()["message"]
    assert text.startswith(f'Workflow "{created["name"]}" (ID: {created["id"]})')
    assert text.endswith(
        "has no node to start the workflow - at least one trigger, poller or webhook node "
        "is required"
    )


async def test_activate_deactivate_and_active_filter(n8n: N8nTarget) -> None:
    name = n8n.unique("active")
    created = await n8n.create_workflow(chain(name, webhook_node(n8n.unique("hook"))))
    activated = await n8n.activate(created["id"])
    assert activated["active"] is True
    assert activated["activeVersionId"] == activated["versionId"]
    listed = await n8n.api.get(f"{API}/workflows", params={"active": "true", "name": name})
    assert [w["id"] for w in listed.json()["data"]] == [created["id"]]
    listed = await n8n.api.get(f"{API}/workflows", params={"active": "false", "name": name})
    assert listed.json()["data"] == []

    response = await n8n.api.post(f"{API}/workflows/{created['id']}/deactivate")
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert response.json()["activeVersionId"] is None


async def test_an_update_that_breaks_an_active_workflow_is_saved_inactive(
    n8n: N8nTarget,
) -> None:
    path = n8n.unique("break")
    created = await n8n.create_workflow(chain(n8n.unique("break"), webhook_node(path)))
    await n8n.activate(created["id"])
    broken = plain_workflow(created["name"] + "-broken")
    response = await n8n.api.put(f"{API}/workflows/{created['id']}", json=broken)
    assert response.status_code == 400
    assert "has no node to start the workflow" in response.json()["message"]
    fetched = (await n8n.api.get(f"{API}/workflows/{created['id']}")).json()
    assert fetched["name"] == created["name"] + "-broken"  # the save stands
    assert fetched["active"] is False
    assert (await n8n.plain.post(f"/webhook/{path}", json={})).status_code == 404


async def test_workflow_paging_by_offset_cursor(n8n: N8nTarget) -> None:
    prefix = n8n.unique("page")
    ids = {(await n8n.create_workflow(plain_workflow(f"{prefix}-{i}")))["id"] for i in range(3)}
    first = (await n8n.api.get(f"{API}/workflows", params={"name": prefix, "limit": 2})).json()
    assert len(first["data"]) == 2
    assert decode(first["nextCursor"]) == {"limit": 2, "offset": 2}
    second = await n8n.api.get(
        f"{API}/workflows", params={"cursor": first["nextCursor"], "name": prefix}
    )
    assert second.status_code == 200
    assert len(second.json()["data"]) == 1
    assert second.json()["nextCursor"] is None
    assert {w["id"] for w in first["data"] + second.json()["data"]} == ids
    # The list is in id order, whatever the creation order.
    assert [w["id"] for w in first["data"]] == sorted(w["id"] for w in first["data"])


async def test_name_filter_is_case_insensitive_containment(n8n: N8nTarget) -> None:
    token = uuid.uuid4().hex[:8]
    created = await n8n.create_workflow(plain_workflow(f"contract Stock Sync {token}"))
    response = await n8n.api.get(f"{API}/workflows", params={"name": f"stock sync {token}"})
    assert [w["id"] for w in response.json()["data"]] == [created["id"]]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "251"}, "request/query/limit must be <= 250"),
        ({"limit": "abc"}, "request/query/limit must be number"),
        ({"limit": ""}, "Empty value found for query parameter 'limit'"),
        ({"active": "yes"}, "request/query/active must be boolean"),
        ({"cursor": "Ingi"}, "An invalid cursor was provided"),
    ],
)
async def test_workflow_list_query_errors(
    n8n: N8nTarget, params: dict[str, str], message: str
) -> None:
    response = await n8n.api.get(f"{API}/workflows", params=params)
    assert response.status_code == 400
    assert response.json() == {"message": message}


async def test_limit_250_is_the_cap_not_an_error(n8n: N8nTarget) -> None:
    response = await n8n.api.get(f"{API}/workflows", params={"limit": "250"})
    assert response.status_code == 200
    assert len(response.json()["data"]) <= 250


# -- tags ---------------------------------------------------------------------------------


async def test_tag_lifecycle_and_conflicts(n8n: N8nTarget) -> None:
    name = uuid.uuid4().hex[:12]
    created = await n8n.create_tag(name)
    assert set(created) == {"id", "name", "createdAt", "updatedAt"}
    duplicate = await n8n.api.post(f"{API}/tags", json={"name": name})
    assert duplicate.status_code == 409
    assert duplicate.json() == {"message": "Tag already exists"}
    padded = await n8n.api.post(f"{API}/tags", json={"name": f"  {name} "})
    assert padded.status_code == 409

    fetched = await n8n.api.get(f"{API}/tags/{created['id']}")
    assert fetched.json()["name"] == name
    renamed = await n8n.api.put(f"{API}/tags/{created['id']}", json={"name": name + "x"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == name + "x"
    assert set(renamed.json()) == {"id", "name", "updatedAt"}

    other = await n8n.create_tag(uuid.uuid4().hex[:12])
    clash = await n8n.api.put(f"{API}/tags/{other['id']}", json={"name": name + "x"})
    assert clash.status_code == 409

    deleted = await n8n.api.delete(f"{API}/tags/{created['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["id"] == created["id"]
    gone = await n8n.api.get(f"{API}/tags/{created['id']}")
    assert gone.status_code == 404
    assert gone.json() == {"message": "Not Found"}


async def test_tag_body_is_validated(n8n: N8nTarget) -> None:
    response = await n8n.api.post(f"{API}/tags", json={})
    assert response.json() == {"message": "request/body must have required property 'name'"}
    response = await n8n.api.post(f"{API}/tags", json={"name": "x", "id": "y"})
    assert response.json() == {"message": "request/body/id is read-only"}


async def test_tag_paging(n8n: N8nTarget) -> None:
    for _ in range(2):
        await n8n.create_tag(uuid.uuid4().hex[:12])
    first = (await n8n.api.get(f"{API}/tags", params={"limit": 1})).json()
    assert len(first["data"]) == 1
    assert decode(first["nextCursor"]) == {"limit": 1, "offset": 1}
    everything = (await n8n.api.get(f"{API}/tags", params={"limit": 250})).json()
    assert everything["nextCursor"] is None


async def test_workflow_tags_and_tag_filter(n8n: N8nTarget) -> None:
    first = await n8n.create_tag(uuid.uuid4().hex[:12])
    second = await n8n.create_tag(uuid.uuid4().hex[:12])
    tagged = await n8n.create_workflow(plain_workflow(n8n.unique("tagged")))
    half = await n8n.create_workflow(plain_workflow(n8n.unique("half")))
    path = f"{API}/workflows/{tagged['id']}/tags"
    response = await n8n.api.put(path, json=[{"id": first["id"]}, {"id": second["id"]}])
    assert response.status_code == 200
    assert {t["id"] for t in response.json()} == {first["id"], second["id"]}
    await n8n.api.put(f"{API}/workflows/{half['id']}/tags", json=[{"id": first["id"]}])
    assert {t["name"] for t in (await n8n.api.get(path)).json()} == {first["name"], second["name"]}

    both = f"{first['name']},{second['name']}"
    listed = (await n8n.api.get(f"{API}/workflows", params={"tags": both})).json()["data"]
    assert [w["id"] for w in listed] == [tagged["id"]]  # every named tag must be present
    listed = (await n8n.api.get(f"{API}/workflows", params={"tags": first["name"]})).json()
    assert {w["id"] for w in listed["data"]} == {tagged["id"], half["id"]}

    unknown = await n8n.api.put(path, json=[{"id": "nope0000nope0000"}])
    assert unknown.status_code == 404
    assert unknown.json() == {"message": "Some tags not found"}
    not_array = await n8n.api.put(path, json={"id": first["id"]})
    assert not_array.json() == {"message": "request/body must be array"}


# -- executions and webhooks --------------------------------------------------------------


@pytest.mark.parametrize("status", ["crashed", "new", "bogus"])
async def test_execution_status_filter_refuses_other_values(n8n: N8nTarget, status: str) -> None:
    response = await n8n.api.get(f"{API}/executions", params={"status": status})
    assert response.status_code == 400
    assert response.json() == {
        "message": "request/query/status must be equal to one of the allowed values: "
        "canceled, error, running, success, waiting"
    }


@pytest.mark.parametrize("status", ["canceled", "error", "running", "success", "waiting"])
async def test_execution_status_filter_accepts_the_five(n8n: N8nTarget, status: str) -> None:
    response = await n8n.api.get(f"{API}/executions", params={"status": status, "limit": 5})
    assert response.status_code == 200
    wanted = {"error": {"error", "crashed"}}.get(status, {status})
    assert all(e["status"] in wanted for e in response.json()["data"])


async def test_unknown_execution_is_404_and_bad_id_400(n8n: N8nTarget) -> None:
    # With no workflow at all the retry answers a plain "Not Found": make sure there is one.
    await n8n.create_workflow(plain_workflow(n8n.unique("anchor")))
    for method in ("GET", "DELETE"):
        response = await n8n.api.request(method, f"{API}/executions/987654321")
        assert response.status_code == 404
        assert response.json() == {"message": "Not Found"}
    response = await n8n.api.get(f"{API}/executions/abc")
    assert response.status_code == 400
    assert response.json() == {"message": "request/params/id must be number"}
    response = await n8n.api.post(f"{API}/executions/987654321/retry")
    assert response.status_code == 404
    assert response.json() == {"message": 'The execution with the ID "987654321" does not exist.'}


async def test_unknown_webhook_is_404_with_hint(n8n: N8nTarget) -> None:
    path = n8n.unique("nohook")
    response = await n8n.plain.post(f"/webhook/{path}")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == 404
    assert body["message"] == f'The requested webhook "POST {path}" is not registered.'
    assert body["hint"].startswith("The workflow must be active for a production URL")


async def test_webhook_success_records_a_webhook_execution(n8n: N8nTarget) -> None:
    path = n8n.unique("ok")
    body = chain(n8n.unique("ok"), webhook_node(path), set_node("Mark", "who", "sandbox"))
    created = await n8n.create_workflow(body)
    await n8n.activate(created["id"])

    response = await n8n.plain.post(f"/webhook/{path}", json={"orderId": 7})
    assert response.status_code == 200
    assert response.json() == {"who": "sandbox"}
    wrong = await n8n.plain.get(f"/webhook/{path}")
    assert wrong.status_code == 404
    assert wrong.json()["message"] == (
        "This webhook is not registered for GET requests. Did you mean to make a POST request?"
    )

    [execution] = await n8n.executions_of(created["id"], 1)
    assert isinstance(execution["id"], str) and execution["id"].isdigit()
    assert execution["workflowId"] == created["id"]
    assert execution["mode"] == "webhook"
    assert execution["status"] == "success"
    assert execution["finished"] is True
    assert execution["retryOf"] is None and execution["waitTill"] is None
    assert "data" not in execution

    full = (
        await n8n.api.get(f"{API}/executions/{execution['id']}", params={"includeData": "true"})
    ).json()
    assert full["data"]["resultData"]["lastNodeExecuted"] == "Mark"
    item = full["data"]["resultData"]["runData"]["Webhook"][0]["data"]["main"][0][0]["json"]
    assert item["body"] == {"orderId": 7}
    assert item["executionMode"] == "production"
    assert full["workflowData"]["id"] == created["id"]


async def test_failing_webhook_answers_500_and_records_the_error(n8n: N8nTarget) -> None:
    path = n8n.unique("fail")
    created = await n8n.create_workflow(
        chain(n8n.unique("fail"), webhook_node(path), stop_node("contract failure"))
    )
    await n8n.activate(created["id"])
    response = await n8n.plain.post(f"/webhook/{path}", json={})
    assert response.status_code == 500
    assert response.json() == {"message": "Error in workflow"}

    [execution] = await n8n.executions_of(created["id"], 1, includeData="true")
    assert execution["finished"] is False
    assert execution["status"] == "error"
    error = execution["data"]["resultData"]["error"]
    assert error["message"] == "contract failure"
    assert error["node"]["name"] == "Boom"
    assert execution["data"]["resultData"]["lastNodeExecuted"] == "Boom"
    errors = await n8n.api.get(
        f"{API}/executions", params={"workflowId": created["id"], "status": "error"}
    )
    assert [e["id"] for e in errors.json()["data"]] == [execution["id"]]
    successes = await n8n.api.get(
        f"{API}/executions", params={"workflowId": created["id"], "status": "success"}
    )
    assert successes.json()["data"] == []


async def test_code_node_that_throws_fails_the_run(n8n: N8nTarget) -> None:
    path = n8n.unique("code")
    code = {
        "name": "Code",
        "type": "n8n-nodes-base.code",
        "typeVersion": 2,
        "position": [220, 0],
        "parameters": {"jsCode": "throw new Error('boom from code');"},
    }
    created = await n8n.create_workflow(chain(n8n.unique("code"), webhook_node(path), code))
    await n8n.activate(created["id"])
    response = await n8n.plain.post(f"/webhook/{path}", json={})
    assert response.status_code == 500
    [execution] = await n8n.executions_of(created["id"], 1, includeData="true")
    error = execution["data"]["resultData"]["error"]
    assert error["message"] == "boom from code [line 1]"
    assert error["node"]["name"] == "Code"


async def test_on_received_webhook_answers_at_once_even_if_the_run_fails(n8n: N8nTarget) -> None:
    path = n8n.unique("recv")
    created = await n8n.create_workflow(
        chain(n8n.unique("recv"), webhook_node(path, mode="onReceived"), stop_node("later"))
    )
    await n8n.activate(created["id"])
    response = await n8n.plain.post(f"/webhook/{path}", json={})
    assert response.status_code == 200
    assert response.json() == {"message": "Workflow was started"}
    [execution] = await n8n.executions_of(created["id"], 1)
    assert execution["status"] == "error"


async def test_execution_paging_is_newest_first_by_id_cursor(n8n: N8nTarget) -> None:
    path = n8n.unique("many")
    created = await n8n.create_workflow(chain(n8n.unique("many"), webhook_node(path)))
    await n8n.activate(created["id"])
    for _ in range(3):
        assert (await n8n.plain.post(f"/webhook/{path}", json={})).status_code == 200
    everything = await n8n.executions_of(created["id"], 3)
    ids = [int(e["id"]) for e in everything]
    assert ids == sorted(ids, reverse=True)

    params = {"workflowId": created["id"], "limit": 2}
    first = (await n8n.api.get(f"{API}/executions", params=params)).json()
    assert [int(e["id"]) for e in first["data"]] == ids[:2]
    assert decode(first["nextCursor"]) == {"lastId": str(ids[1]), "limit": 2}
    second = await n8n.api.get(
        f"{API}/executions", params={"workflowId": created["id"], "cursor": first["nextCursor"]}
    )
    assert [int(e["id"]) for e in second.json()["data"]] == ids[2:]
    assert second.json()["nextCursor"] is None


async def test_executions_of_an_unknown_workflow_are_an_empty_page(n8n: N8nTarget) -> None:
    response = await n8n.api.get(f"{API}/executions", params={"workflowId": "nope0000nope0000"})
    assert response.json() == {"data": [], "nextCursor": None}


async def test_retry_and_delete_an_execution(n8n: N8nTarget) -> None:
    path = n8n.unique("retry")
    created = await n8n.create_workflow(
        chain(n8n.unique("retry"), webhook_node(path), stop_node("still broken"))
    )
    await n8n.activate(created["id"])
    await n8n.plain.post(f"/webhook/{path}", json={})
    [failed] = await n8n.executions_of(created["id"], 1)

    response = await n8n.api.post(f"{API}/executions/{failed['id']}/retry")
    assert response.status_code == 200
    retried = response.json()
    assert retried["mode"] == "retry"
    assert retried["retryOf"] == int(failed["id"])  # a number in this answer
    assert retried["status"] == "error"
    assert retried["finished"] is False
    listed = await n8n.executions_of(created["id"], 2)
    assert listed[0]["id"] == retried["id"]
    assert listed[0]["retryOf"] == failed["id"]  # a string in lists

    deleted = await n8n.api.delete(f"{API}/executions/{failed['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["id"] == int(failed["id"])  # the real server echoes a number
    again = await n8n.api.delete(f"{API}/executions/{failed['id']}")
    assert again.status_code == 404


async def test_a_successful_execution_cannot_be_retried(n8n: N8nTarget) -> None:
    path = n8n.unique("fine")
    created = await n8n.create_workflow(chain(n8n.unique("fine"), webhook_node(path)))
    await n8n.activate(created["id"])
    await n8n.plain.post(f"/webhook/{path}", json={})
    [execution] = await n8n.executions_of(created["id"], 1)
    response = await n8n.api.post(f"{API}/executions/{execution['id']}/retry")
    assert response.status_code == 400
    assert response.json() == {"message": "The execution succeeded, so it cannot be retried."}


async def test_a_taken_webhook_path_refuses_a_second_activation(n8n: N8nTarget) -> None:
    # real-n8n.md says the last activated wins; n8n 1.123.81 refuses instead.
    path = n8n.unique("dup")
    first = await n8n.create_workflow(
        chain(n8n.unique("dup-a"), webhook_node(path), set_node("Mark", "who", "first"))
    )
    second = await n8n.create_workflow(
        chain(n8n.unique("dup-b"), webhook_node(path), set_node("Mark", "who", "second"))
    )
    await n8n.activate(first["id"])
    response = await n8n.api.post(f"{API}/workflows/{second['id']}/activate")
    assert response.status_code == 400
    assert response.json() == {
        "message": 'The URL path that the "Webhook" node uses is already taken. '
        "Please change it to something else."
    }
    assert (await n8n.plain.post(f"/webhook/{path}", json={})).json() == {"who": "first"}


async def test_deleting_a_workflow_hides_its_executions(n8n: N8nTarget) -> None:
    path = n8n.unique("del")
    created = await n8n.create_workflow(chain(n8n.unique("del"), webhook_node(path)))
    await n8n.activate(created["id"])
    await n8n.plain.post(f"/webhook/{path}", json={})
    await n8n.executions_of(created["id"], 1)
    await n8n.api.delete(f"{API}/workflows/{created['id']}")
    response = await n8n.api.get(f"{API}/executions", params={"workflowId": created["id"]})
    assert response.json() == {"data": [], "nextCursor": None}
    assert (await n8n.plain.post(f"/webhook/{path}", json={})).status_code == 404
