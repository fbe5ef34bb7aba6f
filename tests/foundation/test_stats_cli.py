"""``ops stats --trend``, ``ops stats rebuild --since`` and ``ops slo``: tables, --json,
and one clear line for bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from masterops.db.engine import create_db_engine
from masterops.db.rollups import add_rows
from masterops.db.tables import api_metrics


def _calls(url: str) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "service": "hubspot",
            "endpoint": "/crm",
            "method": "GET",
            "status_code": 200 if i % 4 else 503,
            "success": bool(i % 4),
            "duration_ms": 40.0 + i,
            "created_at": now - timedelta(hours=i % 50),
        }
        for i in range(200)
    ]
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(api_metrics), rows)
        add_rows(conn, rows, "api_metrics")
    engine.dispose()


def test_trend_slo_and_rebuild(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    _calls(database.url)
    trend = json.loads(ops("stats", "--trend", "daily", "--days", "5", "--json").stdout)
    assert sum(r["calls"] for r in trend["rows"]) == 200
    assert {r["service"] for r in trend["rows"]} == {"hubspot"}
    table = ops("stats", "--trend", "hourly", "--days", "1")
    assert table.exit_code == 0 and "API calls per service, hourly" in table.stdout
    assert "hubspot" in table.stdout
    slo = json.loads(ops("slo", "--json").stdout)
    (hubspot,) = slo
    assert hubspot["calls"] == 200 and hubspot["objectives"][0]["name"] == "availability"
    assert "availability" in ops("slo", "--wide").stdout
    rebuilt = json.loads(ops("stats", "rebuild", "--since", "1d", "--json").stdout)
    assert {r["table"] for r in rebuilt} == {
        "api_metrics",
        "integration_logs",
        "workflow_execution_logs",
    }
    again = json.loads(ops("stats", "--trend", "daily", "--days", "5", "--json").stdout)
    assert again["rows"] == trend["rows"]


def test_bad_input_is_one_line(ops) -> None:  # type: ignore[no-untyped-def]
    for args, message in (
        (("stats", "--trend", "weekly"), "--trend must be daily or hourly"),
        (("stats", "--trend", "daily", "--days", "0"), "--days must be between 1 and 366"),
        (("stats", "rebuild", "--since", "yesterday"), "--since:"),
        (("stats", "--hours", "-1"), "--hours must be positive"),
    ):
        result = ops(*args)
        assert result.exit_code == 2, (args, result)
        assert message in result.stderr and "Traceback" not in result.stderr
