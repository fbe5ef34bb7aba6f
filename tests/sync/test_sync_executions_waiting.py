"""Executions n8n leaves out of its lists (running ones; those paused at a Wait node,
which on resuming keep their old id and get a new start time), the cost of a run where
nothing changed, and execution ids of two n8n instances. On every database backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from executions_helpers import API_KEY, BASE_URL, CONFIGURED, N8nEnv, make_env, stored
from sqlalchemy import Engine

from masterops.integrations.n8n import N8nConnector
from masterops.sync.executions import sync_executions
from masterops.sync.runs import SyncResult
from masterops_sandbox.harness import SandboxTransport


@pytest.fixture
def env() -> N8nEnv:
    return make_env(executions=60)


async def _sync(env: N8nEnv, engine: Engine, connector: N8nConnector | None = None) -> SyncResult:
    async with connector or env.connect() as conn:
        return await sync_executions(
            conn, engine, business_id="teelixir", page_size=40, businesses=CONFIGURED
        )


def _by_id(engine: Engine) -> dict[str, dict[str, object]]:
    return {str(r["execution_id"]): r for r in stored(engine)}


async def test_the_sandbox_hides_a_waiting_execution_like_n8n(env: N8nEnv) -> None:
    workflow = env.sandbox.workflow_by_name("Teelixir \u2013 order to HubSpot")
    assert workflow is not None
    waiting = env.sandbox.record_execution(workflow["id"], status="waiting")
    async with httpx.AsyncClient(
        transport=SandboxTransport(app=env.harness),
        base_url=BASE_URL,
        headers={"X-N8N-API-KEY": API_KEY},
    ) as client:
        for params in ({}, {"status": "waiting"}, {"workflowId": workflow["id"]}):
            listed = (await client.get("/api/v1/executions", params=params)).json()["data"]
            assert waiting["id"] not in {e["id"] for e in listed}, params
        one = await client.get(f"/api/v1/executions/{waiting['id']}")
        assert one.status_code == 200 and one.json()["status"] == "waiting"
        resumed = env.sandbox.resume_execution(waiting["id"])
        assert resumed["id"] == waiting["id"] and resumed["status"] == "success"
        assert resumed["startedAt"] > waiting["startedAt"]
        listed = (await client.get("/api/v1/executions")).json()["data"]
        assert waiting["id"] in {e["id"] for e in listed}


async def test_an_execution_paused_at_a_wait_node_is_not_missed(
    env: N8nEnv, engine: Engine
) -> None:
    sandbox = env.sandbox
    workflow = sandbox.workflow_by_name("Teelixir \u2013 order to HubSpot")
    assert workflow is not None
    now = datetime.now(UTC)
    # Paused for hours: by the time it resumes, executions below the window sit above
    # its (old, lower) id, so a newest-first read windowed on start time stops before it.
    waiting = sandbox.record_execution(
        workflow["id"], status="waiting", started_at=now - timedelta(hours=3)
    )
    sandbox.record_execution(workflow["id"], started_at=now - timedelta(hours=2))
    sandbox.record_execution(workflow["id"], started_at=now)

    first = await _sync(env, engine)
    assert first.status == "succeeded"
    assert _by_id(engine)[waiting["id"]]["status"] == "waiting"

    sandbox.resume_execution(waiting["id"], duration=2.0)
    second = await _sync(env, engine)
    assert second.status == "succeeded"
    row = _by_id(engine)[waiting["id"]]
    assert row["status"] == "success"
    assert row["started_at"] > now - timedelta(minutes=5)  # its new start time
    # Nothing n8n holds is missing from the table.
    assert set(_by_id(engine)) == {str(i) for i in sandbox.store.executions}


async def test_running_executions_are_read_by_id(env: N8nEnv, engine: Engine) -> None:
    workflow = env.sandbox.workflow_by_name("BOO \u2013 Unleashed stock sync")
    assert workflow is not None
    running = env.sandbox.record_execution(workflow["id"], status="running")
    await _sync(env, engine)
    assert _by_id(engine)[running["id"]]["status"] == "running"
    env.sandbox.store.executions[int(running["id"])].status = "success"
    await _sync(env, engine)
    assert _by_id(engine)[running["id"]]["status"] == "success"


async def test_a_run_where_nothing_changed_lists_each_endpoint_once(
    env: N8nEnv, engine: Engine
) -> None:
    # Settle what the seed left running or waiting, so that nothing can change.
    for execution in env.sandbox.store.executions.values():
        if execution.status in ("running", "waiting", "new"):
            execution.status = "success"
            execution.stopped_at = execution.started_at + 1
    await _sync(env, engine)
    env.harness.reset_calls()

    result = await _sync(env, engine)

    assert result.status == "succeeded" and result.written == 0
    calls = {endpoint: n for (method, endpoint), n in env.harness.calls.items()}
    assert calls.get("/api/v1/executions") == 1, calls
    assert calls.get("/api/v1/workflows") == 1, calls
    # Past the newest id: one look (a 404) for executions n8n lists nowhere yet.
    assert calls.get("/api/v1/executions/{id}", 0) <= 1, calls


async def test_two_instances_with_the_same_execution_ids_do_not_collide(
    engine: Engine,
) -> None:
    one, two = make_env(executions=20), make_env(executions=20)

    def connector(env: N8nEnv, url: str) -> N8nConnector:
        return N8nConnector(
            business_id="teelixir",
            runtime=env.runtime,
            base_url=BASE_URL,
            api_key=API_KEY,
            transport=SandboxTransport(app=env.harness),
            per_second=1000,
            account=url,
        )

    async with connector(one, "https://n8n-a.example") as a:
        await sync_executions(a, engine, business_id="teelixir", businesses=CONFIGURED)
    async with connector(two, "https://user:pw@n8n-b.example/") as b:
        await sync_executions(b, engine, business_id="elevate", businesses=CONFIGURED)
    rows = stored(engine)
    instances = {r["instance"] for r in rows}
    assert instances == {"https://n8n-a.example", "https://n8n-b.example"}
    for instance, env in (("https://n8n-a.example", one), ("https://n8n-b.example", two)):
        ids = {r["execution_id"] for r in rows if r["instance"] == instance}
        assert ids == {str(i) for i in env.sandbox.store.executions}
