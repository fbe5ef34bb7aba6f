"""Helpers of the job tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dbos import DBOSClient, EnqueueOptions
from sqlalchemy import create_engine

from masterops import __version__
from masterops.config import Config
from masterops.jobs.queues import HEALTH_QUEUE
from masterops.jobs.runtime import system_database
from masterops.operations.jobs import APP_NAME
from pg_schemas import drop_schema

PG_URL = os.environ.get("MASTEROPS_TEST_DATABASE_URL")


def drop_system_schema(config: Config) -> None:
    """DBOS's tables on PostgreSQL live in ``<test schema>_dbos``, which the shared
    fixtures do not know about: drop it."""
    url, schema = system_database(config)
    if not url.startswith("postgresql") or PG_URL is None:
        return
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        drop_schema(admin, schema)
    finally:
        admin.dispose()


def enqueue_job(config: Config, options: EnqueueOptions, *args: object) -> None:
    """A job waiting on its queue, put there by a client as another process would (this
    one does not listen to the queue until the test registers it)."""
    url, schema = system_database(config)
    client = DBOSClient(
        system_database_url=url, dbos_system_schema=schema, application_name=APP_NAME
    )
    try:
        client.enqueue(options, *args)
    finally:
        client.destroy()


def enqueue_health_round(config: Config, workflow_id: str) -> None:
    """A health round of teelixir waiting on its queue."""
    options = EnqueueOptions(
        workflow_name="masterops.health_round",
        queue_name=HEALTH_QUEUE,
        workflow_id=workflow_id,
        app_version=__version__,
    )
    enqueue_job(config, options, "teelixir", False)


def unreachable_boo_unleashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unleashed credentials for boo pointing at a port nobody listens on, one attempt per
    call: its inventory sync fails at once. Set before a worker launches, as it reads its
    configuration then."""
    (tmp_path / "masterops.toml").write_text("[limits.retry]\nmax_attempts = 1\n")
    monkeypatch.setenv("MASTEROPS_BOO_UNLEASHED_API_ID", "api-id-boo")
    monkeypatch.setenv("MASTEROPS_BOO_UNLEASHED_API_KEY", "api-key-boo-secret")
    monkeypatch.setenv("MASTEROPS_BOO_UNLEASHED_URL", "http://127.0.0.1:9")
