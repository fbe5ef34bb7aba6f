"""The views give the numbers a reader would compute by hand, and the same on both dialects."""

from __future__ import annotations

import math
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.latency_histogram import RELATIVE_ERROR
from masterops.db.rollups import add_rows
from masterops.db.summaries import SUMMARIES, run_summary
from masterops.db.tables import api_metrics, integration_logs, workflow_execution_logs

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """NOW as each test starts, not as the module was imported: a long suite (minutes
    between collection and this test) would otherwise push rows across the windows'
    edges, whose 5-minute margin is meant for the seconds a test itself takes."""
    global NOW
    NOW = datetime.now(UTC)


def _minutes_ago(rnd: random.Random, most: int) -> timedelta:
    """A random age that keeps clear of the 24 h and 7 d window edges, so a test that
    runs a few seconds later sees the same rows inside each window."""
    while True:
        minutes = rnd.randint(1, most)
        if all(abs(minutes - edge) > 5 for edge in (24 * 60, 7 * 24 * 60)):
            return timedelta(minutes=minutes)


def _rows(seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    rnd = random.Random(seed)
    logs = [
        {
            "source": rnd.choice(["integration", "sync", "health"]),
            "service": "hubspot",
            "level": rnd.choice(["info", "info", "warn", "error"]),
            "message": f"m{i}",
            "created_at": NOW - _minutes_ago(rnd, 30 * 60),
        }
        for i in range(300)
    ]
    executions = [
        {
            "workflow_id": f"wf{rnd.randint(1, 4)}",
            "workflow_name": "Stock sync",
            "execution_id": str(i),
            "status": rnd.choice(["success", "success", "error", "crashed"]),
            "mode": "trigger",
            "started_at": NOW - _minutes_ago(rnd, 10 * 24 * 60),
            "duration_ms": float(rnd.randint(10, 5000)),
        }
        for i in range(400)
    ]
    metrics = [
        {
            "service": "hubspot",
            "endpoint": rnd.choice(["/crm/v3/objects/{type}", "/x/{id}"]),
            "method": "GET",
            "status_code": 200,
            "success": rnd.random() > 0.2,
            "duration_ms": round(rnd.uniform(5, 900), 3),
            "created_at": NOW - _minutes_ago(rnd, 30 * 60),
        }
        for _ in range(500)
    ]
    return {"logs": logs, "executions": executions, "metrics": metrics}


def _load(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(integration_logs), rows["logs"])
        conn.execute(insert(workflow_execution_logs), rows["executions"])
        conn.execute(insert(api_metrics), rows["metrics"])
        # What the telemetry sink does in its batch's transaction.
        add_rows(conn, rows["logs"], "integration_logs")
        add_rows(conn, rows["metrics"], "api_metrics")


def _percentile_cont(values: list[float], p: float) -> float:
    ordered = sorted(values)
    pos = p * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _view(engine: Engine, name: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {name}"))]


def test_views_match_hand_computed_numbers(engine: Engine) -> None:
    rows = _rows()
    _load(engine, rows)

    health = {r["source"]: r for r in _view(engine, "integration_health_summary")}
    recent = [r for r in rows["logs"] if r["created_at"] >= NOW - timedelta(hours=24)]
    for source in {r["source"] for r in recent}:
        mine = [r for r in recent if r["source"] == source]
        errors = sum(r["level"] == "error" for r in mine)
        assert health[source]["total_logs"] == len(mine)
        assert health[source]["error_count"] == errors
        assert health[source]["warning_count"] == sum(r["level"] == "warn" for r in mine)
        assert float(health[source]["error_rate_pct"]) == pytest.approx(
            round(100 * errors / len(mine), 2)
        )

    perf = {r["workflow_id"]: r for r in _view(engine, "workflow_performance_summary")}
    week = [r for r in rows["executions"] if r["started_at"] >= NOW - timedelta(days=7)]
    for wf in {r["workflow_id"] for r in week}:
        mine = [r for r in week if r["workflow_id"] == wf]
        assert perf[wf]["total_executions"] == len(mine)
        assert perf[wf]["failed_executions"] == sum(
            r["status"] in ("error", "crashed") for r in mine
        )
        durations = [r["duration_ms"] for r in mine]
        # From the rollups' histogram (since 0020): within its stated error.
        assert float(perf[wf]["p95_duration_ms"]) == pytest.approx(
            _percentile_cont(durations, 0.95), rel=RELATIVE_ERROR
        )
        assert float(perf[wf]["avg_duration_ms"]) == pytest.approx(sum(durations) / len(durations))

    api = {(r["service"], r["endpoint"]): r for r in _view(engine, "api_performance_summary")}
    day = [r for r in rows["metrics"] if r["created_at"] >= NOW - timedelta(hours=24)]
    for endpoint in {r["endpoint"] for r in day}:
        mine = [r for r in day if r["endpoint"] == endpoint]
        got = api[("hubspot", endpoint)]
        assert got["total_calls"] == len(mine)
        assert got["error_count"] == sum(not r["success"] for r in mine)
        durations = [r["duration_ms"] for r in mine]
        # From the rollups' histogram: within its stated error of the exact percentile.
        assert float(got["p95_duration_ms"]) == pytest.approx(
            _percentile_cont(durations, 0.95), rel=RELATIVE_ERROR
        )
        assert float(got["min_duration_ms"]) == pytest.approx(min(durations))

    errors = _view(engine, "recent_errors")
    assert len(errors) == min(100, sum(r["level"] == "error" for r in rows["logs"]))
    failures = _view(engine, "recent_workflow_failures")
    assert len(failures) == 50


def test_stats_window_runs_the_view_query(engine: Engine) -> None:
    _load(engine, _rows())
    with engine.connect() as conn:
        for name, summary in SUMMARIES.items():
            if summary.window_hours is None:
                continue
            via_query = run_summary(conn, name, NOW - timedelta(hours=summary.window_hours))
            key = summary.keys
            by_key = {
                tuple(r[k] for k in key): r[
                    "total_logs"
                    if "total_logs" in r
                    else ("total_executions" if "total_executions" in r else "total_calls")
                ]
                for r in via_query
            }
            view = _view(engine, name)
            assert by_key == {
                tuple(r[k] for k in key): r[
                    "total_logs"
                    if "total_logs" in r
                    else ("total_executions" if "total_executions" in r else "total_calls")
                ]
                for r in view
            }
        one_hour = run_summary(conn, "integration_health_summary", NOW - timedelta(hours=1))
        day = run_summary(conn, "integration_health_summary", NOW - timedelta(hours=24))
        assert sum(r["total_logs"] for r in one_hour) < sum(r["total_logs"] for r in day)


def _normalise(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        values = []
        for key in sorted(row):
            value = row[key]
            if key in (
                "created_at",
                "started_at",
                "finished_at",
                "last_activity",
                "last_execution_at",
                "details_json",
                "id",
            ):
                continue
            if value is not None and not isinstance(value, str | bool):
                value = round(float(value), 6)
            values.append((key, value))
        out.append(tuple(values))
    return sorted(out, key=repr)


@pytest.mark.skipif(not os.environ.get("MASTEROPS_TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_views_are_equal_on_sqlite_and_postgresql(tmp_path: Path, pg_admin: Engine) -> None:
    schema = "v_" + uuid.uuid4().hex[:10]
    with pg_admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    pg_url = os.environ["MASTEROPS_TEST_DATABASE_URL"]
    pg = create_db_engine(
        f"{pg_url}{'&' if '?' in pg_url else '?'}options=-csearch_path%3D{schema}"
    )
    lite = create_db_engine(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        rows = _rows(seed=11)
        for engine in (pg, lite):
            migrate.upgrade(engine)
            _load(engine, rows)
        for name in SUMMARIES:
            assert _normalise(_view(pg, name)) == _normalise(_view(lite, name)), name
    finally:
        pg.dispose()
        lite.dispose()
        with pg_admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
