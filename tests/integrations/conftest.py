"""Fixtures for connector tests.

Every connector test takes ``runtime``: its telemetry goes, through the real
batched sink, into one database for the whole session, and
``test_zz_no_secrets.py`` (collected last in this folder) searches every row
written during the suite for the sandbox's credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.integrations.base import ConnectorRuntime
from masterops.observability.db_sink import DatabaseSink
from masterops.observability.events import EventRecorder


@dataclass
class TelemetryStore:
    engine: Engine
    sink: DatabaseSink


@pytest.fixture(scope="session")
def telemetry_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TelemetryStore]:
    path: Path = tmp_path_factory.mktemp("telemetry") / "telemetry.db"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    sink = DatabaseSink(engine, flush_interval=0.2)
    yield TelemetryStore(engine, sink)
    sink.close()
    engine.dispose()


@pytest.fixture
def recorder() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
def runtime(telemetry_store: TelemetryStore, recorder: EventRecorder) -> ConnectorRuntime:
    """A runtime whose events reach the session's telemetry database and ``recorder``.

    The sink deliberately gets no secrets to redact: the connectors themselves must
    never put one into an event.
    """
    rt = ConnectorRuntime()
    rt.hub.subscribe(telemetry_store.sink)
    rt.hub.subscribe(recorder)
    return rt
