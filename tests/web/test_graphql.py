"""``/graphql``: one query over businesses, their services' health, syncs, workflows and
errors; the API's tokens, scopes and business scoping; limits on what a query may ask."""

from __future__ import annotations

from typing import Any

import httpx
from web_helpers import Web, bearer, make_token, seed_rows

FULL = """
query Everything {
  businesses {
    id name overall
    services { name health { status latencyMs message checkedAt } }
    syncs(limit: 5) { entity status fetched written failed errorMessage startedAt finishedAt }
    workflows(hours: 48) { workflowId workflowName executions failures lastStartedAt }
    workflowFailures { executionId status errorMessage }
    errors { service operation message createdAt }
  }
}
"""


async def _query(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )


def _seed_workflow_runs(web: Web) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from masterops.db.tables import workflow_execution_logs

    now = datetime.now(UTC)
    with web.engine.begin() as conn:
        conn.execute(
            insert(workflow_execution_logs),
            [
                {
                    "workflow_id": "wf2",
                    "workflow_name": "Stock alerts",
                    "business_id": "teelixir",
                    "execution_id": f"t{i}",
                    "status": status,
                    "started_at": now,
                    "error_message": "node failed" if status == "error" else None,
                }
                for i, status in enumerate(["success", "error", "success"])
            ],
        )


async def test_one_query_reads_health_syncs_workflows_and_errors(web: Web) -> None:
    seed_rows(web.engine)
    _seed_workflow_runs(web)
    answer = await _query(web.client, FULL)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    by_id = {b["id"]: b for b in body["data"]["businesses"]}
    assert set(by_id) == {"boo", "teelixir"}  # the businesses with stored checks
    teelixir = by_id["teelixir"]
    assert teelixir["overall"] == "degraded"
    health = {s["name"]: s["health"] for s in teelixir["services"]}
    # The newest check of each service, as GET /api/v1/health answers.
    assert health["hubspot"]["status"] == "healthy" and health["hubspot"]["latencyMs"] == 12.5
    assert health["unleashed"]["status"] == "degraded"
    [run] = teelixir["syncs"]
    assert (run["entity"], run["status"], run["fetched"], run["written"], run["failed"]) == (
        "inventory",
        "failed",
        3,
        2,
        1,
    )
    assert run["errorMessage"] == "token refused"
    [workflow] = teelixir["workflows"]
    assert (workflow["workflowId"], workflow["executions"], workflow["failures"]) == ("wf2", 3, 1)
    [failure] = teelixir["workflowFailures"]
    assert (failure["executionId"], failure["errorMessage"]) == ("t1", "node failed")
    [line] = teelixir["errors"]  # the warning and elevate's info line are not errors
    assert (line["service"], line["operation"], line["message"]) == (
        "hubspot",
        "search",
        "token refused",
    )
    assert by_id["boo"]["syncs"] == [] and by_id["boo"]["errors"] == []

    # The REST routes read the same rows.
    rest = (await web.client.get("/api/v1/sync/runs", params={"business": "teelixir"})).json()
    assert [r["status"] for r in rest["runs"]] == [run["status"]]


async def test_tokens_and_scopes_are_the_apis(web: Web) -> None:
    seed_rows(web.engine)
    anonymous = await _query(web.client, "{ businesses { id } }", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] in ("missing_token", "invalid_authorization")
    wrong = await _query(web.client, "{ businesses { id } }", headers=bearer("mo_nope"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_token")

    reader = bearer(make_token(web.engine, "read"))
    read = await _query(web.client, "{ businesses { id } }", headers=reader)
    assert read.status_code == 200
    scoped = bearer(make_token(web.engine, "read", "boo"))
    limited = (await _query(web.client, FULL, headers=scoped)).json()
    assert [b["id"] for b in limited["data"]["businesses"]] == ["boo"]
    named = await _query(
        web.client,
        "query($id: String) { businesses(id: $id) { id } }",
        headers=scoped,
        id="teelixir",
    )
    assert named.json()["data"]["businesses"] == []
    # GET works for queries too (read-only: there are no mutations at all).
    got = await web.client.get(
        "/graphql", params={"query": "{ businesses { id } }"}, headers=reader
    )
    assert got.status_code == 200 and len(got.json()["data"]["businesses"]) == 2
    mutation = await _query(web.client, "mutation { businesses { id } }", headers=reader)
    assert mutation.status_code == 400


async def test_introspection_is_allowed_to_a_read_token(web: Web) -> None:
    from graphql import get_introspection_query

    reader = bearer(make_token(web.engine, "read"))
    answer = await _query(web.client, get_introspection_query(descriptions=True), headers=reader)
    assert answer.status_code == 200, answer.text
    names = {t["name"] for t in answer.json()["data"]["__schema"]["types"]}
    assert {"Business", "Service", "Health", "SyncRun", "Workflow", "ErrorLine"} <= names


async def test_deep_wide_or_huge_queries_are_400s(web: Web) -> None:
    deep = "{ __schema { types { " + "ofType { " * 20 + "name" + " }" * 20 + " } } }"
    answer = await _query(web.client, deep)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["message"] == "the query nests deeper than 15 levels"
    far = "{ __schema { types { " + "ofType { " * 600 + "name" + " }" * 600 + " } } }"
    assert (await _query(web.client, far)).status_code == 400
    fragments = " ".join(
        f"fragment F{i} on __Type {{ ofType {{ ...F{i + 1} }} }}" for i in range(150)
    )
    chain = "{ __schema { types { ...F0 } } } " + fragments + " fragment F150 on __Type { name }"
    assert (await _query(web.client, chain)).status_code == 400

    aliases = "{ " + " ".join(f"a{i}: businesses {{ id }}" for i in range(50)) + " }"
    wide = await _query(web.client, aliases)
    assert wide.status_code == 400
    assert "aliases" in wide.json()["errors"][0]["message"]

    tokens = "{ businesses { " + "id " * 3000 + "} }"
    huge = await _query(web.client, tokens)
    assert huge.status_code == 400

    unknown = await _query(web.client, "{ businesses { password } }")
    assert unknown.status_code == 400
    assert "password" in unknown.json()["errors"][0]["message"]
    not_json = await web.client.post(
        "/graphql", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert (not_json.status_code, not_json.json()["error"]) == (400, "bad_request")
    empty = await web.client.post("/graphql", json={})
    assert empty.status_code == 400


async def test_an_argument_out_of_range_is_an_error_beside_the_data(web: Web) -> None:
    seed_rows(web.engine)
    answer = await _query(web.client, "{ businesses { id syncs(limit: 100000) { id } } }")
    assert answer.status_code == 200
    body = answer.json()
    assert body["errors"][0]["message"] == "limit must be between 1 and 1000, got 100000"
    assert body["errors"][0]["path"][-1] == "syncs"
