"""``ops worker --once`` end to end: the real entry point, DBOS, the sandbox, the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_helpers import drop_system_schema
from sqlalchemy import create_engine, func, select, text

from masterops.config import load_config
from masterops.db.engine import create_db_engine
from masterops.db.tables import health_checks


@pytest.fixture
def system_schema_dropped(ops) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """After the test, the DBOS schema the worker made on PostgreSQL is dropped."""
    yield
    drop_system_schema(load_config())


@pytest.mark.usefixtures("system_schema_dropped")
def test_once_health(ops, database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = ops("worker", "--once", "health", "--json")
    report = json.loads(result.stdout)
    [round_] = report["results"]
    assert result.exit_code == report["exit_code"] == round_["exit_code"], result.stderr
    assert round_["checked"] == 13
    engine = create_db_engine(database.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(health_checks)).scalar() == 13
    finally:
        engine.dispose()

    # The run is recorded, durably, in DBOS's system database.
    if database.backend == "sqlite":
        system = create_engine(f"sqlite:///{tmp_path / '.masterops' / 'dbos.sqlite'}")
        query = "SELECT name, status FROM workflow_status"
    else:
        system = create_engine(database.url.replace("postgresql://", "postgresql+psycopg://", 1))
        schema = database.url.rsplit("search_path%3D", 1)[1] + "_dbos"
        query = f'SELECT name, status FROM "{schema}".workflow_status'
    try:
        with system.connect() as conn:
            rows = conn.execute(text(query)).all()
    finally:
        system.dispose()
    assert [tuple(r) for r in rows] == [("masterops.health_round", "SUCCESS")]

    again = ops("worker", "--once", "health", "--business", "teelixir")
    assert "health:" in again.stdout and f"exit code {again.exit_code}" in again.stdout


def test_usage_errors(ops) -> None:  # type: ignore[no-untyped-def]
    assert ops("worker", "--once", "everything").exit_code == 2
    assert ops("worker", "--business", "teelixir").exit_code == 2
    assert ops("worker", "--once", "health", "--business", "nope").exit_code == 2


def test_once_each_unleashed_sync(ops) -> None:  # type: ignore[no-untyped-def]
    for job in ("inventory", "customers", "orders"):
        result = ops("worker", "--once", job, "--business", "boo", "--json")
        assert result.exit_code == 0, (job, result.stderr)
        report = json.loads(result.stdout)
        [run] = report["results"]
        assert run["job"] == job and run["business_id"] == "boo"
        assert run["status"] == "succeeded"
    assert ops("worker", "--once", "executions", "--business", "boo").exit_code == 2


def test_once_webhooks(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("worker", "--once", "webhooks", "--json")
    assert result.exit_code == 0, result.stderr
    [run] = json.loads(result.stdout)["results"]
    assert run["job"] == "webhooks" and run["status"] == "succeeded" and run["claimed"] == 0
