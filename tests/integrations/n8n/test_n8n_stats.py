"""Per-workflow success rates and recent failures (``N8nConnector.workflow_stats``)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from n8n_conn_helpers import BASE_URL, N8nEnv, chain, stop_node, webhook_node

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.n8n import Execution, N8nConnector, Workflow
from masterops.integrations.n8n.stats import StatsBuilder
from masterops_sandbox.harness import SandboxTransport

EXECUTIONS = "/api/v1/executions"
WEEK_AGO = timedelta(days=8)


async def fire(env: N8nEnv, path: str, times: int = 1) -> None:
    async with httpx.AsyncClient(
        transport=SandboxTransport(app=env.harness), base_url=BASE_URL
    ) as client:
        for _ in range(times):
            await client.post(f"/webhook/{path}", json={})


async def test_failing_webhook_runs_show_error_and_node(empty_env: N8nEnv) -> None:
    async with empty_env.connect() as n8n:
        nodes = [webhook_node("prices"), stop_node("missing column unit_price", "Parse prices")]
        failing = await n8n.create_workflow("Price import", nodes, chain(*nodes))
        await n8n.activate(failing.id)
        fine = await n8n.create_workflow("Orders", [webhook_node("orders")])
        await n8n.activate(fine.id)
        idle = await n8n.create_workflow("Idle", [webhook_node("idle")])
        await fire(empty_env, "prices", times=3)
        await fire(empty_env, "orders", times=2)
        stats = await n8n.workflow_stats(since=datetime.now(UTC) - timedelta(hours=1))
    by_name = {s.workflow_name: s for s in stats}
    assert [s.workflow_name for s in stats] == ["Idle", "Orders", "Price import"]

    broken = by_name["Price import"]
    assert (broken.total, broken.succeeded, broken.failed) == (3, 0, 3)
    assert broken.success_rate == 0.0
    assert broken.active is True
    assert broken.last_failure_at is not None and broken.last_failure_at.tzinfo is UTC
    assert len(broken.recent_failures) == 3
    for failure in broken.recent_failures:
        assert failure.error_message == "missing column unit_price"
        assert failure.error_node == "Parse prices"
        assert failure.mode == "webhook" and failure.status == "error"
    ids = [int(f.execution_id) for f in broken.recent_failures]
    assert ids == sorted(ids, reverse=True)  # newest first

    good = by_name["Orders"]
    assert (good.total, good.succeeded, good.failed, good.success_rate) == (2, 2, 0, 1.0)
    assert good.recent_failures == [] and good.last_failure_at is None

    nothing = by_name["Idle"]
    assert nothing.workflow_id == idle.id
    assert (nothing.total, nothing.success_rate, nothing.last_execution_at) == (0, None, None)


async def test_seeded_stats_match_the_history(n8n: N8nConnector, env: N8nEnv) -> None:
    since = datetime.now(UTC) - WEEK_AGO
    stats = await n8n.workflow_stats(since=since)
    assert len(stats) == 18
    listed = env.sandbox.executions()
    expected = Counter(e["workflowId"] for e in listed if e["status"] != "running")
    assert {s.workflow_id: s.total for s in stats if s.total} == dict(expected)
    for s in stats:
        assert s.succeeded + s.failed + s.canceled + s.unfinished == s.total
        if s.succeeded + s.failed:
            assert s.success_rate == pytest.approx(s.succeeded / (s.succeeded + s.failed))
        assert len(s.recent_failures) == min(s.failed, 5)
        assert all(f.error_message for f in s.recent_failures if f.status == "error")

    legacy = next(s for s in stats if s.workflow_name and "legacy price import" in s.workflow_name)
    assert legacy.failed == legacy.total > 0 and legacy.success_rate == 0.0
    assert legacy.recent_failures[0].error_node == "Parse price file"
    assert "Price file format changed" in (legacy.recent_failures[0].error_message or "")


async def test_one_workflow_and_the_number_of_calls(n8n: N8nConnector, env: N8nEnv) -> None:
    legacy = next(w for w in env.sandbox.workflows() if "legacy" in w["name"])
    [stats] = await n8n.workflow_stats(
        since=datetime.now(UTC) - WEEK_AGO, workflow_id=legacy["id"], recent_failures=2
    )
    assert stats.workflow_id == legacy["id"] and stats.failed > 2
    assert len(stats.recent_failures) == 2
    # One page to count, one page of failures with data (stopped once both were seen).
    assert env.harness.call_count(EXECUTIONS, "GET") == 2
    assert env.harness.call_count("/api/v1/workflows/{id}", "GET") == 1


async def test_no_failures_means_no_second_pass(empty_env: N8nEnv) -> None:
    wf = empty_env.sandbox.create_workflow("fine", [webhook_node("fine")])
    empty_env.sandbox.record_execution(wf["id"], status="success")
    empty_env.sandbox.record_execution(wf["id"], status="canceled")
    async with empty_env.connect() as n8n:
        [stats] = await n8n.workflow_stats(since=datetime.now(UTC) - timedelta(hours=1))
    assert (stats.total, stats.succeeded, stats.canceled, stats.success_rate) == (2, 1, 1, 1.0)
    assert empty_env.harness.call_count(EXECUTIONS, "GET") == 1


async def test_stats_of_an_unknown_workflow_is_not_found(n8n: N8nConnector) -> None:
    with pytest.raises(IntegrationError) as caught:
        await n8n.workflow_stats(since=datetime.now(UTC), workflow_id="nope0000nope0000")
    assert caught.value.category is ErrorCategory.NOT_FOUND


def _execution(id_: int, status: str, *, minutes_ago: int, workflow: str = "w1") -> Execution:
    started = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return Execution.model_validate(
        {
            "id": id_,
            "workflowId": workflow,
            "status": status,
            "mode": "trigger",
            "startedAt": started.isoformat(),
            "stoppedAt": (started + timedelta(seconds=2)).isoformat(),
        }
    )


def test_builder_arithmetic_without_http() -> None:
    since = datetime.now(UTC) - timedelta(days=1)
    builder = StatsBuilder(
        [Workflow(id="w1", name="One", active=True)], since=since, keep_failures=1
    )
    for execution in [
        _execution(6, "running", minutes_ago=1),
        _execution(5, "crashed", minutes_ago=2),
        _execution(4, "error", minutes_ago=3),
        _execution(3, "canceled", minutes_ago=4),
        _execution(2, "success", minutes_ago=5),
        _execution(1, "success", minutes_ago=6, workflow="gone"),
    ]:
        builder.count(execution)
    assert builder.wanted_failures == 1  # only the newest failure is described
    [gone, one] = sorted(builder.result(), key=lambda s: s.workflow_id)
    assert (one.total, one.succeeded, one.failed, one.canceled, one.unfinished) == (5, 1, 2, 1, 1)
    assert one.success_rate == pytest.approx(1 / 3)
    assert [f.execution_id for f in one.recent_failures] == ["5"]
    assert one.recent_failures[0].error_message is None  # never described: still listed
    assert gone.workflow_name is None and gone.total == 1  # a workflow the list did not show
