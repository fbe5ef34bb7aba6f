"""``sync_executions`` against the in-process n8n sandbox, on every database backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from executions_helpers import (
    CONFIGURED,
    N8nEnv,
    after_calls,
    expected_business,
    make_env,
    runs,
    stored,
    stored_by_id,
)
from sqlalchemy import Engine, text

from masterops.db.tables import sync_state
from masterops.observability.events import LogEvent
from masterops.sync.executions import DEFAULT_OVERLAP, sync_executions
from masterops.sync.runs import SyncResult


@pytest.fixture
def env() -> N8nEnv:
    return make_env()


async def _sync(env: N8nEnv, engine: Engine, **kwargs: object) -> SyncResult:
    async with env.connect() as connector:
        return await sync_executions(
            connector,
            engine,
            business_id="teelixir",
            page_size=40,
            businesses=CONFIGURED,
            **kwargs,  # type: ignore[arg-type]
        )


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_first_sync_stores_every_execution_once(env: N8nEnv, engine: Engine) -> None:
    handler = env.sandbox.workflow_by_name("Master-Ops \u2013 error handler")
    assert handler is not None
    env.sandbox.record_execution(handler["id"], status="success", duration=0.25)

    result = await _sync(env, engine)

    expected = {e["id"]: e for e in env.sandbox.executions()}
    rows = stored_by_id(engine)
    assert result.status == "succeeded"
    assert set(rows) == set(expected)
    assert result.fetched == result.written == len(expected)
    names = {w["id"]: w["name"] for w in env.sandbox.workflows()}
    for execution_id, row in rows.items():
        source = expected[execution_id]
        truth = env.sandbox.store.executions[int(execution_id)]
        assert row["status"] == source["status"]
        assert row["workflow_id"] == source["workflowId"]
        assert row["workflow_name"] == names[source["workflowId"]]
        assert row["mode"] == source["mode"]
        assert row["started_at"] == _parse(source["startedAt"])
        if source["stoppedAt"] is None:
            assert row["finished_at"] is None and row["duration_ms"] is None
        else:
            duration = (_parse(source["stoppedAt"]) - _parse(source["startedAt"])).total_seconds()
            assert row["duration_ms"] == pytest.approx(duration * 1000, abs=0.01)
        if source["status"] == "error":
            assert row["error_message"] == truth.error_message
            assert row["error_details_json"]["node"] == truth.error_node
            assert row["nodes_executed"] is not None and row["nodes_failed"] >= 1
        elif source["status"] == "success":
            assert row["error_message"] is None and row["error_details_json"] is None
        assert row["business_id"] == expected_business(row["workflow_name"], "teelixir")
    # Every business is represented, and the unowned handler fell back to the runner.
    assert {r["business_id"] for r in rows.values()} == {s for s, _ in CONFIGURED}
    handler_rows = [r for r in rows.values() if r["workflow_id"] == handler["id"]]
    assert [r["business_id"] for r in handler_rows] == ["teelixir"]
    assert any(r["status"] == "running" for r in rows.values())

    newest = max(r["started_at"] for r in rows.values())
    assert result.watermark_after == newest.isoformat()
    with engine.connect() as conn:
        watermark = conn.execute(
            sync_state.select().where(sync_state.c.entity == "executions")
        ).one()
    assert watermark.watermark == result.watermark_after
    [run] = runs(engine)
    assert run["status"] == "succeeded" and run["fetched"] == len(expected)
    assert run["watermark_after"] == result.watermark_after
    [event] = [e for e in env.recorder.logs if e.operation == "sync_executions"]
    assert isinstance(event, LogEvent)
    assert (event.source, event.service, event.level) == ("sync", "n8n", "info")


async def test_second_run_reads_only_the_overlap_and_writes_nothing(
    env: N8nEnv, engine: Engine
) -> None:
    first = await _sync(env, engine)
    second = await _sync(env, engine)

    assert first.watermark_after is not None
    cutoff = _parse(first.watermark_after) - DEFAULT_OVERLAP
    executions = env.sandbox.executions()
    in_overlap = [e for e in executions if _parse(e["startedAt"]) >= cutoff]
    assert 0 < len(in_overlap) < len(executions)
    assert second.fetched == len(in_overlap)
    assert second.written == 0
    assert second.watermark_before == first.watermark_after == second.watermark_after
    assert len(stored(engine)) == len(executions)
    assert [r["status"] for r in runs(engine)] == ["succeeded", "succeeded"]


async def test_full_reads_everything_again(env: N8nEnv, engine: Engine) -> None:
    await _sync(env, engine)
    again = await _sync(env, engine, full=True)
    assert again.fetched == len(env.sandbox.executions())
    assert again.written == 0
    assert runs(engine)[-1]["full"] is True


async def test_new_and_finished_executions_appear_on_the_next_run(
    env: N8nEnv, engine: Engine
) -> None:
    sandbox = env.sandbox
    store = sandbox.store
    # Running since long before the overlap: only the stale-row refresh can see it finish.
    stock = sandbox.workflow_by_name("BOO \u2013 Unleashed stock sync")
    assert stock is not None
    started = datetime.now(UTC) - 3 * DEFAULT_OVERLAP
    long_run = sandbox.record_execution(stock["id"], status="running", started_at=started)
    await _sync(env, engine)
    assert stored_by_id(engine)[long_run["id"]]["status"] == "running"

    orders = sandbox.workflow_by_name("Teelixir \u2013 order to HubSpot")
    assert orders is not None
    ran = sandbox.run(orders["id"], mode="webhook")
    failed = sandbox.record_execution(
        stock["id"], status="error", error_message="503 - Service Unavailable",
        error_node="Fetch stock (Unleashed)",
    )  # fmt: skip
    finished = store.executions[int(long_run["id"])]
    finished.status = "success"
    finished.stopped_at = round(finished.started_at + 42.5, 3)

    result = await _sync(env, engine)

    rows = stored_by_id(engine)
    assert set(rows) == {e["id"] for e in sandbox.executions()}
    assert rows[ran["id"]]["status"] == ran["status"]
    assert rows[ran["id"]]["business_id"] == "teelixir"
    assert rows[failed["id"]]["status"] == "error"
    assert rows[failed["id"]]["business_id"] == "boo"
    assert rows[failed["id"]]["error_message"] == "503 - Service Unavailable"
    assert rows[failed["id"]]["error_details_json"]["node"] == "Fetch stock (Unleashed)"
    assert rows[long_run["id"]]["status"] == "success"
    assert rows[long_run["id"]]["duration_ms"] == pytest.approx(42_500, abs=0.01)
    assert result.written == 3


def _add_recent(env: N8nEnv, count: int) -> None:
    sandbox = env.sandbox
    ids = [w["id"] for w in sandbox.workflows()]
    now = datetime.now(UTC)
    for i in range(count):
        status = "error" if i % 7 == 0 else "success"
        sandbox.record_execution(
            ids[i % len(ids)],
            status=status,
            started_at=now + timedelta(seconds=i),
            error_message="boom" if status == "error" else None,
            error_node="Somewhere" if status == "error" else None,
        )


@pytest.mark.parametrize("how", ["server_errors", "exception", "interrupt"])
async def test_a_run_stopped_part_way_then_rerun_stores_everything_once(
    env: N8nEnv, engine: Engine, how: str
) -> None:
    await _sync(env, engine)
    _add_recent(env, 150)  # several pages newer than the watermark

    def stop() -> None:
        if how == "server_errors":
            env.harness.faults.configure(rate_5xx=1.0, path_pattern="executions")
        elif how == "exception":
            raise RuntimeError("lost the database connection")
        else:
            raise KeyboardInterrupt

    if how == "interrupt":
        with pytest.raises(KeyboardInterrupt):
            await _sync(env, engine, on_progress=after_calls(1, stop))
    else:
        broken = await _sync(env, engine, on_progress=after_calls(1, stop))
        assert broken.status == "failed"
        assert broken.error
        assert broken.watermark_after == broken.watermark_before
    env.harness.faults.reset()
    interrupted = runs(engine)[-1]
    assert interrupted["status"] == ("interrupted" if how == "interrupt" else "failed")
    assert interrupted["error_message"]
    partial = stored_by_id(engine)
    assert len(partial) < len(env.sandbox.executions())  # the run really stopped early

    rerun = await _sync(env, engine)

    assert rerun.status == "succeeded"
    assert set(stored_by_id(engine)) == {e["id"] for e in env.sandbox.executions()}
    assert [r["status"] for r in runs(engine)][-1] == "succeeded"
    if how != "interrupt":
        [event] = [
            e for e in env.recorder.logs if e.operation == "sync_executions" and e.level == "error"
        ]
        assert "failed" in event.message


async def test_views_show_the_synced_executions(env: N8nEnv, engine: Engine) -> None:
    await _sync(env, engine)
    rows = stored(engine)
    with engine.connect() as conn:
        summary = {
            r.workflow_name: r._mapping
            for r in conn.execute(text("SELECT * FROM workflow_performance_summary"))
        }
        failures = [
            dict(r._mapping) for r in conn.execute(text("SELECT * FROM recent_workflow_failures"))
        ]
    broken = summary["RHF \u2013 legacy price import"]
    assert broken["failed_executions"] == broken["total_executions"] > 0
    assert broken["success_rate_pct"] == 0
    assert sum(s["total_executions"] for s in summary.values()) <= len(rows)
    for name, s in summary.items():
        mine = [r for r in rows if r["workflow_name"] == name]
        assert s["successful_executions"] <= sum(r["status"] == "success" for r in mine)
        assert s["avg_duration_ms"] is None or s["avg_duration_ms"] > 0
    failed_rows = [r for r in rows if r["status"] in ("error", "crashed")]
    assert len(failures) == min(50, len(failed_rows))
    assert all(f["business_id"] for f in failures)
    assert any(f["error_message"] for f in failures)


async def test_a_run_killed_without_cleanup_is_marked_interrupted(
    env: N8nEnv, engine: Engine
) -> None:
    from masterops.sync.state import start_run

    with engine.begin() as conn:  # what a kill -9 leaves behind
        start_run(conn, "teelixir", "executions", full=False, watermark=None)
    await _sync(env, engine)
    assert [r["status"] for r in runs(engine)] == ["interrupted", "succeeded"]


async def test_a_running_execution_deleted_in_n8n_does_not_fail_the_run(
    env: N8nEnv, engine: Engine
) -> None:
    stock = env.sandbox.workflow_by_name("Elevate \u2013 Unleashed stock sync")
    assert stock is not None
    started = datetime.now(UTC) - 3 * DEFAULT_OVERLAP
    gone = env.sandbox.record_execution(stock["id"], status="running", started_at=started)
    await _sync(env, engine)
    env.sandbox.store.delete_execution(int(gone["id"]))  # pruned by n8n meanwhile

    result = await _sync(env, engine)

    assert result.status == "succeeded"
    assert result.counts["stale_missing"] == 1
    assert stored_by_id(engine)[gone["id"]]["status"] == "running"  # as last seen
    # The ids above the newest listed (none there) and the pruned one answer 404: answers
    # the sync looks for, logged at debug level, not failed calls.
    lookups = [e for e in env.recorder.logs if e.operation == "get_execution"]
    assert {e.status for e in lookups} == {"expected"}, [(e.level, e.message) for e in lookups]
    assert {e.level for e in lookups} == {"debug"}
    failed = [c for c in env.recorder.api_calls if c.operation == "get_execution" and not c.success]
    assert failed == []
