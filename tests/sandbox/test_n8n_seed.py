"""The n8n sandbox's seeded content: deterministic, per business, a realistic week."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from masterops_sandbox.accounts import BUSINESSES
from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.n8n import N8nSandbox, build_n8n

KEY = "seed-test-key"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def fixed_now() -> datetime:
    return NOW


def client(sandbox_harness: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=SandboxTransport(app=sandbox_harness),  # type: ignore[arg-type]
        base_url="http://n8n.sandbox",
        headers={"X-N8N-API-KEY": KEY},
    )


def snapshot(sandbox: N8nSandbox) -> tuple[object, ...]:
    return (
        [(w["id"], w["name"], w["active"]) for w in sandbox.workflows()],
        [(t["id"], t["name"]) for t in sandbox.tags()],
        [(e["id"], e["workflowId"], e["status"], e["startedAt"]) for e in sandbox.executions()],
    )


def test_same_seed_same_content_and_another_seed_differs() -> None:
    first, _ = build_n8n(KEY, seed=3, now=fixed_now)
    again, _ = build_n8n(KEY, seed=3, now=fixed_now)
    other, _ = build_n8n(KEY, seed=4, now=fixed_now)
    assert snapshot(first) == snapshot(again)
    assert snapshot(first) != snapshot(other)


def test_every_business_has_tagged_workflows_some_active() -> None:
    sandbox, _ = build_n8n(KEY, now=fixed_now)
    workflows = sandbox.workflows()
    short = {"teelixir": "Teelixir", "elevate": "Elevate", "boo": "BOO", "rhf": "RHF"}
    for slug, _name in BUSINESSES:
        own = [w for w in workflows if slug in {t["name"] for t in w["tags"]}]
        assert len(own) >= 3, slug
        assert all(w["name"].startswith(f"{short[slug]} \u2013 ") for w in own)
        assert any(w["active"] for w in own)
    names = {w["name"] for w in workflows}
    assert "Teelixir \u2013 Unleashed stock sync" in names
    assert "BOO \u2013 order to HubSpot" in names
    assert any(not w["active"] for w in workflows)


def test_history_covers_the_last_week_with_a_realistic_share_of_failures() -> None:
    sandbox, _ = build_n8n(KEY, now=fixed_now, executions=2000)
    executions = sandbox.executions()
    assert len(executions) == 2000
    started = [datetime.fromisoformat(e["startedAt"].replace("Z", "+00:00")) for e in executions]
    assert min(started) >= NOW - timedelta(days=7)
    assert max(started) <= NOW
    statuses = Counter(e["status"] for e in executions)
    failed = statuses["error"] + statuses["crashed"]
    assert 0.05 <= failed / len(executions) <= 0.25
    assert statuses["success"] > failed
    assert statuses["running"] == 1
    modes = Counter(e["mode"] for e in executions)
    assert {"trigger", "webhook", "manual", "retry"} <= modes.keys()
    # Ids follow time, so "newest first" by id is newest first by start.
    ids = [int(e["id"]) for e in executions]
    assert ids == sorted(ids, reverse=True)
    assert started == sorted(started, reverse=True)


def test_retries_point_at_earlier_failures() -> None:
    sandbox, _ = build_n8n(KEY, now=fixed_now, executions=2000)
    by_id = {e["id"]: e for e in sandbox.executions()}
    retries = [e for e in by_id.values() if e["mode"] == "retry"]
    assert retries
    for retry in retries:
        original = by_id[retry["retryOf"]]
        assert int(original["id"]) < int(retry["id"])
        assert original["status"] == "error"
    fixed = [e for e in by_id.values() if e["retrySuccessId"]]
    assert fixed
    assert all(by_id[e["retrySuccessId"]]["status"] == "success" for e in fixed)


async def test_seeded_failure_has_error_data_on_a_node_of_its_workflow() -> None:
    sandbox, harness = build_n8n(KEY, now=fixed_now)
    failed = next(e for e in sandbox.executions(status="error"))
    async with client(harness) as api:
        response = await api.get(
            f"/api/v1/executions/{failed['id']}", params={"includeData": "true"}
        )
    body = response.json()
    error = body["data"]["resultData"]["error"]
    node_names = {n["name"] for n in sandbox.workflow(failed["workflowId"])["nodes"]}
    assert error["message"]
    assert error["node"]["name"] in node_names
    assert body["data"]["resultData"]["lastNodeExecuted"] == error["node"]["name"]
    assert body["workflowData"]["id"] == failed["workflowId"]


async def test_the_running_execution_is_listed_only_when_asked_for() -> None:
    sandbox, harness = build_n8n(KEY, now=fixed_now)
    [running] = sandbox.executions(status="running")
    async with client(harness) as api:
        default = (await api.get("/api/v1/executions", params={"limit": 250})).json()
        asked = (await api.get("/api/v1/executions", params={"status": "running"})).json()
        refused = await api.delete(f"/api/v1/executions/{running['id']}")
    assert running["id"] not in {e["id"] for e in default["data"]}
    assert [e["id"] for e in asked["data"]] == [running["id"]]
    assert running["stoppedAt"] is None
    assert refused.status_code == 400
    assert refused.json() == {"message": "Cannot delete a running execution"}


async def test_seeded_webhooks_answer_and_the_broken_one_fails() -> None:
    sandbox, harness = build_n8n(KEY, now=fixed_now, seed_data=True)
    before = len(sandbox.executions())
    async with client(harness) as api:
        ok = await api.post("/webhook/boo/order-created", json={"orderId": "SO-1001"})
        broken = await api.post("/webhook/rhf/price-import", json={})
    assert ok.status_code == 200
    assert ok.json() == {"orderId": "SO-1001", "business": "boo", "status": "received"}
    assert broken.status_code == 500
    assert broken.json() == {"message": "Error in workflow"}
    newest = sandbox.executions()[:2]
    assert len(sandbox.executions()) == before + 2
    assert [e["status"] for e in newest] == ["error", "success"]
    assert {e["mode"] for e in newest} == {"webhook"}


@pytest.mark.parametrize("volume", [0, 1, 25])
def test_execution_volume_is_exact(volume: int) -> None:
    sandbox, _ = build_n8n(KEY, now=fixed_now, executions=volume)
    assert len(sandbox.executions()) == volume


def test_no_seed_data_means_an_empty_instance() -> None:
    sandbox, harness = build_n8n(KEY, seed_data=False)
    assert sandbox.workflows() == [] and sandbox.tags() == [] and sandbox.executions() == []
    assert harness.state()["workflows"] == 0
