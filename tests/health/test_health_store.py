"""Storing health results and reading the status before a round (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from health_fakes import SECRET, MakeServices
from sqlalchemy import Engine, func, select

from masterops.db.queries import prune
from masterops.db.tables import health_checks
from masterops.health import latest_statuses, recent_checks, record_round, run_health_round
from masterops.integrations.base import HealthResult
from masterops.observability.redaction import Redactor

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _result(business: str, service: str, status: str, at: datetime) -> HealthResult:
    return HealthResult(
        service=service,
        business_id=business,
        status=status,  # type: ignore[arg-type]
        latency_ms=12.5,
        message=f"{service} is {status} (key {SECRET})",
        checked_at=at,
        breaker="closed",
        details={"error": {"status": 503}, "authorization": "Bearer abc"},
    )


def test_record_round_returns_the_previous_status_and_stores(engine: Engine) -> None:
    redactor = Redactor([SECRET])
    first = [_result("teelixir", "hubspot", "healthy", T0), _result("boo", "n8n", "down", T0)]
    assert record_round(engine, first, redactor=redactor) == {}

    later = T0 + timedelta(minutes=5)
    second = [
        _result("teelixir", "hubspot", "down", later),
        _result("boo", "n8n", "down", later),
        _result("rhf", "unleashed", "healthy", later),
    ]
    previous = record_round(engine, second, redactor=redactor)
    assert previous == {("teelixir", "hubspot"): "healthy", ("boo", "n8n"): "down"}

    with engine.connect() as conn:
        assert latest_statuses(conn) == {
            ("teelixir", "hubspot"): "down",
            ("boo", "n8n"): "down",
            ("rhf", "unleashed"): "healthy",
        }
        assert latest_statuses(conn, [("boo", "n8n")]) == {("boo", "n8n"): "down"}
        assert latest_statuses(conn, []) == {}
        rows = recent_checks(conn, business_id="teelixir")
        assert conn.execute(select(func.count()).select_from(health_checks)).scalar_one() == 5
    assert [r["status"] for r in rows] == ["down", "healthy"]  # newest first
    newest = rows[0]
    assert newest["checked_at"] == later and newest["latency_ms"] == 12.5
    assert newest["breaker"] == "closed"
    assert newest["details_json"]["error"] == {"status": 503}
    assert SECRET not in str(rows) and "Bearer abc" not in str(rows)


async def test_a_real_round_is_stored(make_services: MakeServices, engine: Engine) -> None:
    report = await run_health_round(make_services({("teelixir", "n8n"): "broken"}), engine)
    assert record_round(engine, report.results) == {}
    with engine.connect() as conn:
        stored = latest_statuses(conn)
    assert stored == {(r.business_id, r.service): r.status for r in report.results}
    assert stored[("teelixir", "n8n")] == "down"


def test_health_checks_are_prunable(engine: Engine) -> None:
    record_round(engine, [_result("boo", "n8n", "healthy", T0)])
    with engine.begin() as conn:
        assert prune(conn, T0 + timedelta(days=1), ["health_checks"]) == {"health_checks": 1}
