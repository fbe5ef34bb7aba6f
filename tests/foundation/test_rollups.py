"""The rollups: windows read from them equal the raw computation (within the histogram's
stated error), whatever order rows arrive in and however many writers add them; a
rebuild gives the same rollups; trends and SLOs read them. Both databases."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text

from masterops.alerts.slo import slo_conditions, slo_report
from masterops.config import SloSettings
from masterops.db import latency_histogram as hist
from masterops.db import rollups
from masterops.db.latency_histogram import BOUNDS, RELATIVE_ERROR, bucket_of, bucket_sql
from masterops.db.rollup_reads import trend
from masterops.db.summaries import run_raw_summary, run_summary
from masterops.db.tables import api_metrics, integration_logs, workflow_execution_logs
from masterops.observability.db_sink import DatabaseSink
from masterops.observability.events import ApiCall

NOW = datetime.now(UTC)
WINDOWS_H = (0.5, 1, 5, 24, 24 * 7, 24 * 40)


def _metrics(rnd: random.Random, n: int, most_hours: float) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        code = rnd.choice([200, 200, 200, 201, 404, 429, 500, None])
        rows.append(
            {
                "service": rnd.choice(["hubspot", "unleashed"]),
                "endpoint": rnd.choice(["/a", "/b/{id}"]),
                "method": "GET",
                "status_code": code,
                "success": code is not None and code < 400,
                "duration_ms": round(rnd.lognormvariate(5, 1), 3),
                "operation": rnd.choice(["get", "push", None]),
                "business_id": rnd.choice(["teelixir", "rhf", None]),
                "created_at": NOW - timedelta(seconds=rnd.uniform(1, most_hours * 3600)),
            }
        )
    return rows


def _logs(rnd: random.Random, n: int, most_hours: float) -> list[dict[str, Any]]:
    return [
        {
            "source": rnd.choice(["integration", "sync"]),
            "service": rnd.choice(["hubspot", None]),
            "operation": rnd.choice(["push", None]),
            "level": rnd.choice(["info", "warn", "error"]),
            "message": "m",
            "duration_ms": rnd.choice([None, 12.5, 900.0]),
            "business_id": rnd.choice(["teelixir", None]),
            "created_at": NOW - timedelta(seconds=rnd.uniform(1, most_hours * 3600)),
        }
        for _ in range(n)
    ]


def _write(engine: Engine, metrics: list[dict[str, Any]], logs: list[dict[str, Any]]) -> None:
    """What the telemetry sink does: raw rows and their rollups in one transaction."""
    with engine.begin() as conn:
        if metrics:
            conn.execute(insert(api_metrics), metrics)
            rollups.add_rows(conn, metrics, "api_metrics")
        if logs:
            conn.execute(insert(integration_logs), logs)
            rollups.add_rows(conn, logs, "integration_logs")


def _assert_equal_to_raw(engine: Engine) -> None:
    with engine.connect() as conn:
        for hours in WINDOWS_H:
            since = NOW - timedelta(hours=hours)
            for name, key in (
                ("api_performance_summary", ("service", "endpoint")),
                ("integration_health_summary", ("source",)),
                ("workflow_performance_summary", ("workflow_id",)),
            ):
                rolled = {tuple(r[k] for k in key): r for r in run_summary(conn, name, since)}
                raw = {tuple(r[k] for k in key): r for r in run_raw_summary(conn, name, since)}
                assert rolled.keys() == raw.keys(), (name, hours)
                for k, exact in raw.items():
                    got = rolled[k]
                    for column, value in exact.items():
                        if column == "p95_duration_ms":
                            assert got[column] == pytest.approx(value, rel=RELATIVE_ERROR)
                        elif column in ("avg_duration_ms", "error_rate_pct", "success_rate_pct"):
                            assert float(got[column]) == pytest.approx(float(value), rel=1e-9)
                        else:
                            assert got[column] == value, (name, hours, k, column)


def test_bucket_sql_agrees_with_python(engine: Engine) -> None:
    values = [0.0, 0.99, 1.0, 1.1, BOUNDS[5], BOUNDS[5] * 0.999999, BOUNDS[-1], 5e6]
    with engine.connect() as conn:
        for v in values:
            got = conn.execute(text(f"SELECT {bucket_sql(':v')}"), {"v": v}).scalar_one()
            assert got == bucket_of(v), v


def test_windows_equal_raw_with_rows_out_of_time_order(engine: Engine) -> None:
    rnd = random.Random(3)
    metrics = _metrics(rnd, 1500, 24 * 45)
    logs = _logs(rnd, 800, 24 * 45)
    rnd.shuffle(metrics)
    rnd.shuffle(logs)
    # Batches of shuffled rows: each hour is added to many times, late rows included.
    for start in range(0, 1500, 200):
        _write(engine, metrics[start : start + 200], logs[start // 2 : start // 2 + 100])
    _assert_equal_to_raw(engine)


def test_concurrent_writers_add_up(engine: Engine) -> None:
    rnd = random.Random(5)
    batches = [(_metrics(rnd, 150, 3), _logs(rnd, 60, 3)) for _ in range(12)]
    errors: list[BaseException] = []

    def writer(mine: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> None:
        try:
            for metrics, logs in mine:
                _write(engine, metrics, logs)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(batches[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _assert_equal_to_raw(engine)
    before = _table(engine, "api_metrics_hourly")
    rollups.rebuild(engine)
    assert _table(engine, "api_metrics_hourly") == before


def _table(engine: Engine, name: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT * FROM {name}")).all()
    return sorted(
        (tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in rows), key=repr
    )


def test_rebuild_rolls_up_rows_written_around_the_rollups(engine: Engine) -> None:
    rnd = random.Random(9)
    metrics = _metrics(rnd, 600, 24 * 10)
    logs = _logs(rnd, 300, 24 * 10)
    with engine.begin() as conn:  # e.g. a bulk import that bypassed the sink
        conn.execute(insert(api_metrics), metrics)
        conn.execute(insert(integration_logs), logs)
    with engine.connect() as conn:
        assert run_summary(conn, "api_performance_summary", NOW - timedelta(days=30)) == []
    results = rollups.rebuild(engine)
    assert {r.table: r.rows for r in results} == {
        "api_metrics": 600,
        "integration_logs": 300,
        "workflow_execution_logs": 0,
    }
    _assert_equal_to_raw(engine)
    # --since: days before it are left as they are, days from it recomputed.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM api_metrics_daily"))
    rollups.rebuild(engine, NOW - timedelta(days=2), tables=["api_metrics"])
    with engine.connect() as conn:
        days = conn.execute(text("SELECT COUNT(DISTINCT period_start) FROM api_metrics_daily"))
        assert days.scalar_one() == 3


def test_the_sink_keeps_the_rollups(engine: Engine) -> None:
    sink = DatabaseSink(engine, flush_interval=0.05)
    try:
        for i in range(300):
            sink(
                ApiCall(
                    service="hubspot",
                    endpoint="/crm",
                    method="POST",
                    status_code=200 if i % 10 else 503,
                    success=bool(i % 10),
                    duration_ms=10.0 + i,
                    created_at=NOW - timedelta(minutes=i),
                )
            )
        assert sink.flush()
    finally:
        sink.close()
    with engine.connect() as conn:
        (row,) = run_summary(conn, "api_performance_summary", NOW - timedelta(hours=24))
    assert (row["total_calls"], row["error_count"]) == (300, 30)
    _assert_equal_to_raw(engine)


def test_trend_per_service_per_day(engine: Engine) -> None:
    rnd = random.Random(4)
    metrics = _metrics(rnd, 800, 24 * 5)
    _write(engine, metrics, [])
    with engine.connect() as conn:
        rows = trend(conn, "daily", 3, NOW)
    start = NOW.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    for row in rows:
        day = row["period_start"]
        day = datetime.fromisoformat(day).replace(tzinfo=UTC) if isinstance(day, str) else day
        mine = [
            m
            for m in metrics
            if m["service"] == row["service"] and day <= m["created_at"] < day + timedelta(1)
        ]
        assert row["calls"] == len(mine) and day >= start
        assert row["errors"] == sum(not m["success"] for m in mine)
        durations = sorted(m["duration_ms"] for m in mine)
        pos = 0.95 * (len(durations) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(durations) - 1)
        exact = durations[lo] + (durations[hi] - durations[lo]) * (pos - lo)
        assert row["p95_duration_ms"] == pytest.approx(exact, rel=RELATIVE_ERROR)
    assert {r["service"] for r in rows} == {"hubspot", "unleashed"}
    assert len(rows) == 6


def test_slo_budget_burn_and_alert(engine: Engine) -> None:
    calls = []
    for i in range(400):  # the last hour: 10 % errors, the rest of the month clean
        calls.append(
            {
                "service": "hubspot",
                "endpoint": "/crm",
                "method": "GET",
                "status_code": 500 if i % 10 == 0 else 200,
                "success": i % 10 != 0,
                "duration_ms": 50.0,
                "created_at": NOW - timedelta(minutes=(i % 50) + 1),
            }
        )
    for i in range(3600):
        calls.append(
            {
                "service": "hubspot",
                "endpoint": "/crm",
                "method": "GET",
                "status_code": 200,
                "success": True,
                "duration_ms": 2000.0 if i % 100 == 0 else 50.0,
                "created_at": NOW - timedelta(hours=7 + i % (24 * 20)),
            }
        )
    _write(engine, calls, [])
    settings = SloSettings()
    with engine.connect() as conn:
        (entry,) = slo_report(conn, settings, NOW)
        availability, latency = entry.objectives
        assert entry.calls == 4000
        assert availability.window_percent == pytest.approx(100 * (1 - 40 / 4000))
        # 40 bad of 4000 with a 0.5 % budget: twice the budget spent.
        assert availability.budget_left_percent == pytest.approx(100 * (1 - 0.01 / 0.005))
        assert availability.burn_1h == pytest.approx(0.1 / 0.005)
        assert availability.burn_6h == pytest.approx(0.1 / 0.005)
        assert latency.window_percent == pytest.approx(100 * (1 - 36 / 4000))
        (condition,) = slo_conditions(conn, settings, NOW)
    assert condition.service == "slo:hubspot" and condition.status == "degraded"
    assert "availability" in condition.message and "latency" not in condition.message


def _executions(rnd: random.Random, n: int, most_hours: float) -> list[dict[str, Any]]:
    """Executions as the sync first stores them: many still running, some not started."""
    return [
        {
            "workflow_id": rnd.choice(["wf1", "wf2", "wf3"]),
            "workflow_name": rnd.choice(["Orders", None]),
            "instance": "",
            "execution_id": str(i),
            "status": rnd.choice(["running", "success", "error", "crashed", "waiting"]),
            "started_at": None
            if i % 50 == 0
            else NOW - timedelta(seconds=rnd.uniform(1, most_hours * 3600)),
            "duration_ms": rnd.choice([None, round(rnd.lognormvariate(7, 1), 1)]),
            "business_id": rnd.choice(["teelixir", None]),
        }
        for i in range(n)
    ]


def test_workflow_rollups_follow_executions_as_they_finish(engine: Engine) -> None:
    """Triggers keep the workflow rollups: rows inserted out of time order, then updated
    as the executions finish (status, duration, even the start), in several batches."""
    rnd = random.Random(11)
    rows = _executions(rnd, 900, 24 * 45)
    t = workflow_execution_logs
    for start in range(0, 900, 150):
        with engine.begin() as conn:
            conn.execute(insert(t), rows[start : start + 150])
    with engine.begin() as conn:
        for i in rnd.sample(range(900), 400):
            status = rnd.choice(["success", "error", "crashed"])
            values: dict[str, Any] = {"status": status, "duration_ms": rnd.uniform(5, 9000)}
            if i % 7 == 0:
                values["started_at"] = NOW - timedelta(hours=rnd.uniform(0.1, 24 * 45))
            if i % 11 == 0:
                values["error_message"] = "only this changed"
                values = {"error_message": values["error_message"]}
            conn.execute(t.update().where(t.c.execution_id == str(i)).values(**values))
    _assert_equal_to_raw(engine)
    before = _table(engine, "workflow_executions_hourly")
    rollups.rebuild(engine, tables=["workflow_execution_logs"])
    after = _table(engine, "workflow_executions_hourly")
    # A rebuild drops rows emptied by updates and recomputes extremes: counters agree.
    counted = [r for r in before if r[4] != 0]
    assert [r[:8] for r in after] == [r[:8] for r in counted]
    with engine.connect() as conn:
        view = conn.execute(text("SELECT * FROM workflow_performance_summary")).all()
        since = NOW - timedelta(days=7)
        assert len(view) == len(run_raw_summary(conn, "workflow_performance_summary", since))


def test_histogram_percentile_interpolates_bucket_values_like_percentile_cont() -> None:
    """The Python percentile (trends) reads a histogram as the SQL one does: every call
    at its bucket's value, ranks interpolated as percentile_cont does."""
    rnd = random.Random(2)
    assert hist.percentile([0] * hist.BUCKETS, 0.95) is None
    for _ in range(200):
        counts = [0] * hist.BUCKETS
        for _ in range(rnd.randint(1, 40)):
            counts[rnd.randrange(hist.BUCKETS)] += rnd.randint(1, 3)
        values = [hist.REPRESENTATIVE[b] for b, n in enumerate(counts) for _ in range(n)]
        for p in (0.0, 0.5, 0.95, 0.99, 1.0):
            position = p * (len(values) - 1)
            lo = int(position)
            hi = min(lo + 1, len(values) - 1)
            exact = values[lo] + (values[hi] - values[lo]) * (position - lo)
            assert hist.percentile(counts, p) == pytest.approx(exact, rel=1e-12)
