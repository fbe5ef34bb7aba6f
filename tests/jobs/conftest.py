"""Fixtures of the job tests: a platform configured on each backend, and DBOS launched on
it for one test (destroyed after, never with its registry)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_helpers import drop_system_schema

from masterops.config import Config, load_config
from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.jobs.runtime import launched


@pytest.fixture
def platform(database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:  # type: ignore[no-untyped-def]
    """The configuration a worker in ``tmp_path`` reads: the test database, the sandbox.
    The job steps rebuild it from the environment, so the environment is set too."""
    for key in list(os.environ):
        if key.startswith("MASTEROPS_") and key != "MASTEROPS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("MASTEROPS_DATABASE_URL", database.url)
    monkeypatch.chdir(tmp_path)
    engine = create_db_engine(database.url)
    migrate.upgrade(engine)
    engine.dispose()
    config = load_config()
    try:
        yield config
    finally:
        drop_system_schema(config)


@pytest.fixture
def dbos(platform: Config) -> Iterator[Config]:
    """DBOS launched on the platform's system database, polling often so results come
    back fast; destroyed after the test."""
    with launched(platform, worker_name="test", polling_interval_s=0.01):
        yield platform
