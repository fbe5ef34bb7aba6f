"""``ops health`` end to end: the real entry point, the sandbox or a dead n8n, the database."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from masterops.db.engine import create_db_engine
from masterops.db.tables import alert_history, health_checks

SERVICES = ("hubspot", "unleashed", "n8n")
BUSINESSES = ("teelixir", "elevate", "boo", "rhf")
EXIT = {"healthy": 0, "degraded": 1, "down": 2}
N8N_KEY = "n8n-api-key-for-health-cli-tests"


def _count(url: str, table: Any) -> int:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def test_sandbox_round_covers_every_business_and_service(ops, database) -> None:  # type: ignore[no-untyped-def]
    result = ops("health", "--json")
    report = json.loads(result.stdout)
    pairs = [(r["business_id"], r["service"]) for r in report["results"]]
    assert pairs == [("platform", "database")] + [(b, s) for b in BUSINESSES for s in SERVICES]
    statuses = [r["status"] for r in report["results"]]
    worst = max((s for s in statuses if s != "disabled"), key=EXIT.__getitem__)
    assert report["status"] == worst
    assert result.exit_code == report["exit_code"] == EXIT[worst], result.stderr
    assert report["alerts"] == []  # nothing was known before, and a healthy start is no news
    assert _count(database.url, health_checks) == len(pairs)

    docker = ops("health", "--exit-codes", "docker")
    assert docker.exit_code == (0 if worst == "healthy" else 1)
    assert "teelixir" in docker.stdout and "overall:" in docker.stdout
    assert _count(database.url, health_checks) == 2 * len(pairs)


def test_filters(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("health", "--json", "--business", "teelixir", "--service", "n8n")
    pairs = [(r["business_id"], r["service"]) for r in json.loads(result.stdout)["results"]]
    assert pairs == [("teelixir", "n8n")]
    result = ops("health", "--json", "--service", "database")
    [database] = json.loads(result.stdout)["results"]
    assert (database["service"], database["status"]) == ("database", "healthy")
    assert result.exit_code == 0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def dead_n8n(ops, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Live mode with one n8n for all businesses, where nothing listens; one attempt per
    call so the round fails at once instead of backing off. (It takes ``ops``, which
    clears every MASTEROPS_ variable, so that it sets its own after that.)"""
    (tmp_path / "masterops.toml").write_text("[limits.retry]\nmax_attempts = 1\n")
    monkeypatch.setenv("MASTEROPS_N8N_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("MASTEROPS_N8N_API_KEY", N8N_KEY)


@pytest.mark.usefixtures("dead_n8n")
def test_a_dead_service_is_down_alerted_once_and_stored(ops, database) -> None:  # type: ignore[no-untyped-def]
    result = ops("health", "--json")
    assert result.exit_code == 2, result.stderr
    report = json.loads(result.stdout)
    statuses = {(r["business_id"], r["service"]): r["status"] for r in report["results"]}
    assert statuses[("platform", "database")] == "healthy"
    for business in BUSINESSES:
        assert statuses[(business, "n8n")] == "down"
        assert statuses[(business, "hubspot")] == statuses[(business, "unleashed")] == "disabled"
    assert report["counts"] == {"healthy": 1, "degraded": 0, "down": 4, "disabled": 8}
    assert sorted((a["business_id"], a["channel"], a["delivered"]) for a in report["alerts"]) == [
        (b, "log", True) for b in sorted(BUSINESSES)
    ]
    assert N8N_KEY not in result.stdout + result.stderr
    assert _count(database.url, alert_history) == 4

    again = ops("health", "--json", "--exit-codes", "docker")
    assert again.exit_code == 1
    assert json.loads(again.stdout)["alerts"] == []  # a repeat
    assert _count(database.url, alert_history) == 4

    table = ops("health", "--no-alerts")
    assert table.exit_code == 2
    assert "disabled" in table.stdout and "MASTEROPS_TEELIXIR_HUBSPOT_TOKEN" in table.stdout
    assert _count(database.url, health_checks) == 3 * 13


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--exit-codes", "k8s"), "--exit-codes must be one of default, docker, got 'k8s'"),
        (("--service", "ftp"), "--service must be one of"),
        (("--business", "acme"), "--business: unknown business 'acme'"),
    ],
)
def test_bad_flags_are_one_clear_line(ops, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    result = ops("health", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_an_unreachable_database_is_down(ops, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    url = f"postgresql://ops:db-secret-pw@127.0.0.1:{_closed_port()}/masterops"
    monkeypatch.setenv("MASTEROPS_DATABASE_URL", url)
    result = ops("health")
    assert result.exit_code == 2
    assert "the platform database is down" in result.stderr and "127.0.0.1" in result.stderr
    assert "db-secret-pw" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.usefixtures("dead_n8n")
def test_a_round_without_alerts_does_not_silence_the_next(ops, database) -> None:  # type: ignore[no-untyped-def]
    # --no-alerts stores "down" without telling anyone; the operator still knows nothing,
    # so the next normal round announces it (once), and the one after is a repeat.
    assert ops("health", "--no-alerts").exit_code == 2
    assert _count(database.url, alert_history) == 0
    first = json.loads(ops("health", "--json").stdout)
    assert sorted((a["business_id"], a["status"], a["channel"]) for a in first["alerts"]) == [
        (b, "down", "log") for b in sorted(BUSINESSES)
    ]
    assert json.loads(ops("health", "--json").stdout)["alerts"] == []
    assert _count(database.url, alert_history) == 4
