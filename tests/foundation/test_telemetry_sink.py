"""The batched database sink: rows arrive, secrets do not, and a dead database costs nothing."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select

from masterops.db.engine import create_db_engine
from masterops.db.tables import api_metrics, integration_logs
from masterops.observability.batch_writer import BatchWriter
from masterops.observability.db_sink import DatabaseSink
from masterops.observability.events import ApiCall, LogEvent, TelemetryHub
from masterops.observability.logger import OpsLogger

SECRET = "pat-na1-00000000-dead-beef-0000-000000000000"


def _count(engine: Engine, table) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_events_become_rows_redacted(engine: Engine) -> None:
    hub = TelemetryHub()
    sink = DatabaseSink(engine, secrets=[SECRET], flush_interval=0.05)
    hub.subscribe(sink)
    log = OpsLogger(hub, "sync", service="hubspot", business_id="teelixir")
    log.error(
        f"upload failed with token {SECRET}",
        status="failure",
        headers={"Authorization": f"Bearer {SECRET}"},
        count=3,
        when=datetime(2026, 1, 1, tzinfo=UTC),
    )
    hub.emit(
        ApiCall(
            service="hubspot",
            endpoint="/crm/v3/objects/{type}",
            method="GET",
            status_code=401,
            success=False,
            duration_ms=12.5,
            operation="list",
            error_category="AUTHENTICATION",
            error_message=f"bad token {SECRET}",
        )
    )
    assert sink.flush()
    with engine.connect() as conn:
        log_row = conn.execute(select(integration_logs)).one()._mapping
        metric = conn.execute(select(api_metrics)).one()._mapping
    assert log_row["source"] == "sync" and log_row["level"] == "error"
    assert log_row["business_id"] == "teelixir" and log_row["status"] == "failure"
    assert SECRET not in log_row["message"] and "***" in log_row["message"]
    assert SECRET not in json.dumps(log_row["details_json"])
    assert log_row["details_json"]["count"] == 3
    assert log_row["created_at"].tzinfo is not None
    assert metric["endpoint"] == "/crm/v3/objects/{type}" and metric["status_code"] == 401
    assert SECRET not in metric["error_message"]
    sink.close()


def test_many_threads_lose_nothing(engine: Engine) -> None:
    sink = DatabaseSink(engine, max_batch=200, flush_interval=0.05)

    def produce(n: int) -> None:
        for i in range(500):
            sink(
                LogEvent(source="t", service=None, operation=None, level="info", message=f"{n}-{i}")
            )

    threads = [threading.Thread(target=produce, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sink.close()
    assert _count(engine, integration_logs) == 2000
    assert sink.stats.logs.written == 2000 and sink.stats.logs.dropped == 0


def test_unreachable_database_falls_back_to_stream_and_counts() -> None:
    dead = create_db_engine("postgresql://nobody@127.0.0.1:1/none")
    fallback = io.StringIO()
    writer = BatchWriter(dead, integration_logs, flush_interval=0.05, fallback=fallback)
    for i in range(3):
        assert writer.put({"source": "t", "level": "info", "message": f"row {i}"})
    assert writer.flush(timeout=30)
    writer.close()
    assert writer.stats.dropped == 3 and writer.stats.written == 0
    lines = [json.loads(line) for line in fallback.getvalue().splitlines()]
    assert lines[0]["event"] == "telemetry_write_failed" and lines[0]["rows"] == 3
    assert [line["message"] for line in lines[1:]] == ["row 0", "row 1", "row 2"]


def test_full_queue_refuses_without_blocking(engine: Engine) -> None:
    writer = BatchWriter(engine, integration_logs, max_queue=1, flush_interval=5.0)
    accepted = [writer.put({"source": "t", "level": "info", "message": str(i)}) for i in range(50)]
    assert accepted.count(False) >= 1
    writer.close()
    assert writer.stats.written + writer.stats.dropped == 50


def test_subscriber_errors_never_reach_the_caller() -> None:
    hub = TelemetryHub()

    def broken(_event: object) -> None:
        raise RuntimeError("boom")

    hub.subscribe(broken)
    hub.emit(LogEvent(source="t", service=None, operation=None, level="info", message="x"))
    assert hub.subscriber_errors == 1
