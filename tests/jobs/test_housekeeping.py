"""The housekeeping job: ``[retention]`` applied to the log tables and to DBOS's own
history, on each backend, never touching a job still pending; and ``ops worker --once
housekeeping`` end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from dbos import DBOS
from jobs_helpers import drop_system_schema
from sqlalchemy import func, insert, select

from masterops.config import Config, load_config
from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import integration_logs
from masterops.jobs import durable
from masterops.jobs.housekeeping import housekeeping_job


@DBOS.workflow(name="tests.housekeeping.waiting")
def waiting_job() -> str:
    """A job that stays pending until told to go: what a worker might still recover."""
    DBOS.recv("go", timeout_seconds=60)
    return "done"


def _log_ages(config: Config) -> list[int]:
    engine = create_db_engine(config.database_url.get_secret_value())
    try:
        with engine.connect() as conn:
            stamps = (
                conn.execute(
                    select(integration_logs.c.created_at).where(
                        integration_logs.c.message.like("% days old")
                    )
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    now = datetime.now(UTC)
    return sorted(round((now - s).total_seconds() / 86_400) for s in stamps)


def _add_logs(config: Config, *ages_days: int) -> None:
    engine = create_db_engine(config.database_url.get_secret_value())
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(integration_logs),
                [
                    {
                        "source": "sync",
                        "level": "info",
                        "message": f"{age} days old",
                        "created_at": now - timedelta(days=age),
                    }
                    for age in ages_days
                ],
            )
    finally:
        engine.dispose()


def _finished_jobs() -> set[str]:
    return {
        w.workflow_id
        for w in DBOS.list_workflows(status=["SUCCESS", "ERROR"], load_input=False)
        if w.name != "masterops.housekeeping"
    }


def test_housekeeping_deletes_old_logs_and_finished_jobs_only(dbos: Config) -> None:
    _add_logs(dbos, 45, 31, 29, 1)
    done = DBOS.start_workflow(durable.health_round_job, "teelixir", False)
    done.get_result()
    pending = DBOS.start_workflow(waiting_job)

    # Today: logs past 30 days go; jobs finished today are within the 14 days kept.
    result = housekeeping_job(datetime.now(UTC).isoformat())
    assert result["deleted"]["integration_logs"] == 2
    assert _log_ages(dbos) == [1, 29]
    assert result["deleted_jobs"] == 0
    assert done.get_workflow_id() in _finished_jobs()

    # Three weeks from now: every finished job is past its 14 days and goes, steps and
    # all; the pending one stays and still finishes.
    later = (datetime.now(UTC) + timedelta(days=21)).isoformat()
    result = housekeeping_job(later)
    assert result["deleted_jobs"] >= 2  # the health round and the first housekeeping
    assert _finished_jobs() == set()
    assert DBOS.get_workflow_status(done.get_workflow_id()) is None
    assert pending.get_status().status == "PENDING"
    DBOS.send(pending.get_workflow_id(), "now", "go")
    assert pending.get_result() == "done"


@pytest.fixture
def system_schema_dropped(ops) -> Iterator[None]:  # type: ignore[no-untyped-def]
    yield
    drop_system_schema(load_config())


@pytest.mark.usefixtures("system_schema_dropped")
def test_once_housekeeping(ops, database) -> None:  # type: ignore[no-untyped-def]
    config = load_config()
    engine = create_db_engine(database.url)
    migrate.upgrade(engine)
    engine.dispose()
    _add_logs(config, 400, 2)
    result = ops("worker", "--once", "housekeeping", "--json")
    assert result.exit_code == 0, result.stderr
    [outcome] = json.loads(result.stdout)["results"]
    assert outcome["status"] == "succeeded"
    assert outcome["deleted"]["integration_logs"] == 1
    engine = create_db_engine(database.url)
    try:
        with engine.connect() as conn:
            left = conn.execute(select(func.count()).select_from(integration_logs)).scalar_one()
    finally:
        engine.dispose()
    # The 2-day-old row, and whatever the job itself logged.
    assert left >= 1

    text = ops("worker", "--once", "housekeeping")
    assert text.exit_code == 0, text.stderr
    assert "housekeeping: succeeded; log rows deleted: none" in text.stdout
