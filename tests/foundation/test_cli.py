"""The ``ops`` commands of the foundation, run through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import integration_logs


def _add_logs(url: str, rows: list[dict]) -> None:  # type: ignore[type-arg]
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(integration_logs), rows)
    engine.dispose()


def test_demo_checks_and_reads_every_service(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("demo", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["revision"] == migrate.head_revision()
    assert report["mode"] == f"sandbox (state in {Path.cwd() / '.masterops' / 'sandbox'})"
    assert [b["id"] for b in report["businesses"]] == ["boo", "elevate", "rhf", "teelixir"]
    health = report["health"]
    checked = {(r["business_id"], r["service"]) for r in health["results"]}
    for business in ("teelixir", "elevate", "boo", "rhf"):
        for service in ("hubspot", "unleashed", "n8n"):
            assert (business, service) in checked
    assert health["status"] == "healthy"
    inventory = {row["business"]: row for row in report["inventory"]}
    assert set(inventory) == {"teelixir", "elevate", "boo", "rhf"}
    assert all(row["products"] > 0 and row["warehouses"] > 0 for row in inventory.values())
    assert report["workflow_failures"] and all(
        f["status"] in ("error", "crashed") for f in report["workflow_failures"]
    )
    # The calls it made were recorded: metrics are written, per endpoint template.
    endpoints = {(r["service"], r["endpoint"]) for r in report["api_calls_last_hour"]}
    assert ("unleashed", "/Products/{page}") in endpoints
    assert report["row_counts"]["api_metrics"] > 0
    assert report["row_counts"]["health_checks"] == len(health["results"])
    # The main job ran: inventory per business and the n8n history, into the database.
    synced = {(r["sync"], r["business"]): r for r in report["sync"]}
    for business in ("teelixir", "elevate", "boo", "rhf"):
        for entity in ("inventory", "customers", "orders"):
            assert synced[(entity, business)]["status"] == "succeeded"
    assert [r["status"] for r in report["sync"] if r["sync"] == "executions"] == ["succeeded"]
    for table in ("products", "stock_levels", "customers", "orders", "order_lines"):
        assert report["row_counts"][table] > 0, table
    assert report["row_counts"]["workflow_execution_logs"] > 0
    assert any(w["failed_executions"] > 0 for w in report["workflow_performance"])
    second = ops("demo")
    assert second.exit_code == 0 and "overall: healthy" in second.stdout


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (("db", "query", "secrets"), "unknown table 'secrets'", 1),
        (("db", "query", "tasks", "-f", "colour=red"), "tasks has no field 'colour'", 1),
        (("db", "query", "tasks", "-f", "priority=high"), "tasks.priority needs", 1),
        (("db", "query", "tasks", "-f", "nonsense"), "must look like field=value", 1),
        (("logs", "--since", "last tuesday"), "--since: 'last tuesday' is neither", 2),
        (("logs", "--level", "fatal"), "--level must be one of", 2),
        (("db", "prune", "--older-than", "30 days"), "--older-than", 2),
        (("tasks", "show", "999"), "no task with id 999", 1),
        (("tasks", "update", "1"), "nothing to change", 2),
        (("stats", "--hours", "0"), "--hours must be positive", 2),
    ],
)
def test_bad_input_is_one_clear_line(ops, args, message, code) -> None:  # type: ignore[no-untyped-def]
    result = ops(*args)
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_bad_database_url_is_one_clear_line(ops, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MASTEROPS_DATABASE_URL", "mysql://root@localhost/x")
    result = ops("db", "status")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: database URL scheme 'mysql' is not supported; use sqlite:// or postgresql://"
    )
    monkeypatch.setenv("MASTEROPS_DATABASE_URL", "postgresql://u:hunter22@127.0.0.1:1/x")
    result = ops("db", "status")
    assert result.exit_code == 1 and "database error" in result.stderr
    assert "hunter22" not in result.stderr and "Traceback" not in result.stderr


def test_tasks_lifecycle(ops) -> None:  # type: ignore[no-untyped-def]
    assert (
        ops("tasks", "add", "Fix stock sync", "-b", "teelixir", "-p", "1", "--step", "a").exit_code
        == 0
    )
    assert ops("tasks", "add", "Unknown biz", "-b", "acme").exit_code == 1
    task = json.loads(ops("tasks", "update", "1", "--status", "in_progress", "--json").stdout)
    assert task["started_at"] is not None
    task = json.loads(
        ops("tasks", "update", "1", "--status", "failed", "--error", "429s", "--json").stdout
    )
    assert task["retry_count"] == 1 and task["next_action_after"] is not None
    assert ops("tasks", "log", "1", "looked at it", "--level", "warn").exit_code == 0
    shown = json.loads(ops("tasks", "show", "1", "--json").stdout)
    assert [log["message"] for log in shown["logs"]] == [
        "task created",
        "status pending -> in_progress",
        "status in_progress -> failed",
        "looked at it",
    ]
    # Not yet retryable: its back-off has not passed.
    assert json.loads(ops("tasks", "retryable", "--json").stdout) == []
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    ops("tasks", "update", "1", "--set", f"next_action_after={past}")
    ops_rows = json.loads(ops("tasks", "retryable", "--json").stdout)
    assert [t["id"] for t in ops_rows] == [1]
    assert ops("tasks", "update", "1", "--status", "exploded").exit_code == 1
    listed = json.loads(ops("tasks", "list", "--status", "failed", "--json").stdout)
    assert [t["title"] for t in listed] == ["Fix stock sync"]


def test_logs_filters_and_query(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    now = datetime.now(UTC)
    _add_logs(
        database.url,
        [
            {
                "source": "integration",
                "service": "hubspot",
                "level": "error",
                "message": "old",
                "created_at": now - timedelta(hours=3),
            },
            {
                "source": "integration",
                "service": "hubspot",
                "level": "error",
                "message": "new",
                "created_at": now - timedelta(minutes=5),
            },
            {
                "source": "sync",
                "service": "unleashed",
                "level": "info",
                "message": "ok",
                "created_at": now - timedelta(minutes=4),
            },
        ],
    )
    lines = ops("logs", "--service", "hubspot", "--since", "1h", "--json").stdout.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["new"]
    lines = ops("logs", "--level", "error", "--json").stdout.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["old", "new"]
    rows = json.loads(
        ops("db", "query", "integration_logs", "-f", "service=unleashed", "--json").stdout
    )
    assert [r["message"] for r in rows] == ["ok"]
    assert "new" in ops("logs").stdout


def test_logs_follow_streams_new_rows(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")

    def later() -> None:
        time.sleep(0.7)
        _add_logs(
            database.url,
            [
                {
                    "source": "health",
                    "level": "warn",
                    "message": "arrived later",
                    "created_at": datetime.now(UTC),
                }
            ],
        )

    thread = threading.Thread(target=later)
    thread.start()
    result = ops("logs", "--follow", "--follow-seconds", "2.5", "--json")
    thread.join()
    assert [json.loads(line)["message"] for line in result.stdout.splitlines()] == ["arrived later"]


def test_stats_window_and_prune(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    now = datetime.now(UTC)
    _add_logs(
        database.url,
        [
            {
                "source": "sync",
                "level": "error",
                "message": "a",
                "created_at": now - timedelta(hours=30),
            },
            {
                "source": "sync",
                "level": "info",
                "message": "b",
                "created_at": now - timedelta(hours=2),
            },
        ],
    )
    # Written around the telemetry sink: not in the rollups until they are rebuilt.
    assert json.loads(ops("stats", "--hours", "48", "--json").stdout)["integrations"] == []
    rebuilt = json.loads(ops("stats", "rebuild", "--json").stdout)
    assert {r["table"]: r["rows"] for r in rebuilt} == {
        "api_metrics": 0,
        "integration_logs": 2,
        "workflow_execution_logs": 0,
    }
    day = json.loads(ops("stats", "--json").stdout)
    assert day["integrations"][0]["total_logs"] == 1
    two_days = json.loads(ops("stats", "--hours", "48", "--json").stdout)
    assert two_days["integrations"][0]["total_logs"] == 2
    assert two_days["integrations"][0]["error_count"] == 1
    pruned = json.loads(
        ops("db", "prune", "--older-than", "1d", "--force", "--yes", "--json").stdout
    )
    assert pruned["deleted"]["integration_logs"] == 1
    status = json.loads(ops("db", "status", "--json").stdout)
    assert status["row_counts"]["integration_logs"] == 1 and status["pending"] == []


def test_config_show_masks_secrets_and_check_names_fixes(ops, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_TOKEN", "pat-very-secret-token")
    monkeypatch.setenv("MASTEROPS_BOO_UNLEASHED_API_ID", "only-the-id")
    shown = ops("config", "show", "--json")
    assert "pat-very-secret-token" not in shown.stdout
    data = json.loads(shown.stdout)
    assert data["mode"] == "live"
    assert data["businesses"]["teelixir"]["hubspot"] == {"token": "***", "tier": "starter"}
    checked = ops("config", "check", "--json")
    assert checked.exit_code == 1
    report = json.loads(checked.stdout)
    assert any("MASTEROPS_BOO_UNLEASHED_API_KEY" in p for p in report["problems"])
    assert any(
        n == "elevate/hubspot is disabled: set MASTEROPS_ELEVATE_HUBSPOT_TOKEN"
        for n in report["notes"]
    )


def test_console_script_runs_without_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ops_bin = [sys.executable, "-m", "masterops"]
    result = subprocess.run(
        [*ops_bin, "db", "query", "nope"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: unknown table 'nope'")
    version = subprocess.run([*ops_bin, "--version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.startswith("masterops ")


def test_prune_keeps_unprocessed_webhook_events(ops, database) -> None:  # type: ignore[no-untyped-def]
    from masterops.db.tables import webhook_inbox

    ops("db", "upgrade")
    old = datetime.now(UTC) - timedelta(days=40)
    engine = create_db_engine(database.url)
    with engine.begin() as conn:
        conn.execute(
            insert(webhook_inbox),
            [
                {
                    "source": "hubspot",
                    "event_id": str(i),
                    "status": status,
                    "received_at": old,
                    "attempts": 0,
                    "payload_json": {},
                }
                for i, status in enumerate(("pending", "processed", "failed"))
            ],
        )
    engine.dispose()
    pruned = json.loads(ops("db", "prune", "--older-than", "30d", "--yes", "--json").stdout)
    # Only the failed event ages out: the inbox is the event log (`ops events`).
    assert pruned["deleted"]["webhook_inbox"] == 1
    left = json.loads(ops("db", "query", "webhook_inbox", "--json").stdout)
    assert sorted(r["status"] for r in left) == ["pending", "processed"]
