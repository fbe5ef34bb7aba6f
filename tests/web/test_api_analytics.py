"""``/api/v1/stats/trend`` and ``/api/v1/slo`` answer what ``ops stats --trend`` and
``ops slo`` compute from the rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from web_helpers import Web

from masterops.db.rollups import add_rows
from masterops.db.tables import api_metrics


def _calls(web: Web, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    rows = [
        {
            "service": "hubspot" if i % 2 else "unleashed",
            "endpoint": "/x",
            "method": "GET",
            "status_code": 500 if i % 5 == 0 else 200,
            "success": i % 5 != 0,
            "duration_ms": 100.0,
            "created_at": now - timedelta(minutes=1 + i % 30),
        }
        for i in range(100)
    ]
    with web.engine.begin() as conn:
        conn.execute(insert(api_metrics), rows)
        add_rows(conn, rows, "api_metrics")


async def test_trend_and_slo(web: Web) -> None:
    _calls(web)
    trend = (await web.client.get("/api/v1/stats/trend?days=2")).json()
    assert trend["grain"] == "daily" and trend["days"] == 2
    assert sum(r["calls"] for r in trend["rows"]) == 100
    assert {r["service"] for r in trend["rows"]} == {"hubspot", "unleashed"}
    assert all(r["p95_duration_ms"] is not None for r in trend["rows"])
    slo = (await web.client.get("/api/v1/slo")).json()
    assert slo["window_days"] == 30
    hubspot = next(s for s in slo["services"] if s["service"] == "hubspot")
    availability = next(o for o in hubspot["objectives"] if o["name"] == "availability")
    assert availability["window_percent"] == 80.0  # 10 of 50 failed
    assert availability["burn_1h"] == 40.0  # 20 % bad against a 0.5 % budget


async def test_a_trend_across_midnight_counts_both_days(web: Web) -> None:
    # The calls span 00:17 back to 23:48 of the day before: two daily rows per service.
    _calls(web, datetime.now(UTC).replace(hour=0, minute=18, second=0, microsecond=0))
    trend = (await web.client.get("/api/v1/stats/trend?days=2")).json()
    days = {r["period_start"][:10] for r in trend["rows"]}
    assert len(days) == 2 and len(trend["rows"]) == 4
    assert sum(r["calls"] for r in trend["rows"]) == 100


async def test_bad_trend_parameters_are_400(web: Web) -> None:
    for path, message in {
        "/api/v1/stats/trend?grain=weekly": "grain:",
        "/api/v1/stats/trend?days=0": "days: Input should be greater than or equal to 1",
    }.items():
        answer = await web.client.get(path)
        assert answer.status_code == 400, path
        assert message in answer.json()["message"], answer.json()
