"""The composition root: what an operation needs, built lazily from the configuration.

One ``AppContext`` per command invocation, or per job-running process: a worker builds
one at launch and gives each durable step a ``step_context()`` of it, so that the
configuration, the engine (with its schema check) and the telemetry sink are built once
per process rather than once per step. Nothing is read, imported or connected until
asked for: a command that only prints help or configuration never loads SQLAlchemy,
Alembic or the connectors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from masterops.config import Config, load_config
from masterops.operations.errors import SchemaBehind

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.integrations.base import ConnectorRuntime
    from masterops.observability.db_sink import DatabaseSink
    from masterops.observability.events import TelemetryHub
    from masterops.observability.prometheus import PrometheusTelemetry
    from masterops.operations.services import Services


class AppContext:
    """Configuration, the platform database and telemetry for one invocation."""

    def __init__(self, *, json_output: bool = False, config: Config | None = None) -> None:
        self.json_output = json_output
        self._sink: DatabaseSink | None = None
        self._schema_ready = False
        # A step's context borrows its process's engine and hub: closing it leaves them.
        self._borrowed = False
        if config is not None:
            self.__dict__["config"] = config  # the cached_property's slot

    @cached_property
    def config(self) -> Config:
        return load_config()

    @cached_property
    def engine(self) -> Engine:
        from masterops.db.engine import create_db_engine

        return create_db_engine(
            self.config.database_url.get_secret_value(), limits=self.config.limits.database
        )

    def database(self) -> Engine:
        """The engine with the schema ready: the embedded SQLite default migrates itself;
        any other database must be upgraded explicitly with ``ops db upgrade``."""
        from masterops.db import migrate

        engine = self.engine
        if self._schema_ready:
            return engine
        pending = migrate.pending_revisions(engine)
        if pending:
            if self.config.database_is_default or engine.dialect.name == "sqlite":
                migrate.upgrade(engine)
            else:
                raise SchemaBehind(
                    f"the database schema is behind ({len(pending)} migration(s) pending): "
                    "run `ops db upgrade`"
                )
        self._schema_ready = True
        return engine

    @cached_property
    def hub(self) -> TelemetryHub:
        """A hub whose events reach the terminal and, batched, the database."""
        from masterops.observability.console import ConsoleLog
        from masterops.observability.db_sink import DatabaseSink
        from masterops.observability.events import TelemetryHub

        hub = TelemetryHub()
        cfg = self.config
        hub.subscribe(
            ConsoleLog(
                json_lines=cfg.log_json or self.json_output,
                min_level="warn" if self.json_output else cfg.log_level,
                secrets=cfg.secrets(),
            )
        )
        self._sink = DatabaseSink(self.database(), secrets=cfg.secrets())
        hub.subscribe(self._sink)
        return hub

    @cached_property
    def runtime(self) -> ConnectorRuntime:
        """The process's rate-limit buckets and circuit breakers, shared by every
        connector this context builds; its events go to ``hub``."""
        from masterops.integrations.base import ConnectorRuntime

        return ConnectorRuntime(hub=self.hub)

    @cached_property
    def prometheus(self) -> PrometheusTelemetry:
        """Counters and histograms of this process's telemetry (``/metrics``)."""
        from masterops.observability.prometheus import PrometheusTelemetry

        telemetry = PrometheusTelemetry()
        self.hub.subscribe(telemetry)
        return telemetry

    @contextmanager
    def services(self) -> Iterator[Services]:
        """The connectors of this invocation (configured, or the sandbox in-process), on
        the migrated database and this context's runtime and telemetry."""
        from masterops.operations.services import open_services

        engine = self.database()
        with open_services(self.config, self.hub, engine, runtime=self.runtime) as services:
            yield services

    def step_context(self) -> AppContext:
        """A context for one job step run by this process: this context's configuration,
        engine (schema already checked) and telemetry hub, shared; a connector runtime of
        its own. The runtime's rate-limit buckets and breakers belong to one event loop
        (they are not thread-safe), and each step runs its own loop on its own thread, so
        steps running side by side must not share them. Closing it closes nothing shared.
        """
        step = AppContext(json_output=self.json_output, config=self.config)
        step.__dict__["engine"] = self.database()
        step.__dict__["hub"] = self.hub
        step._schema_ready = True
        step._borrowed = True
        return step

    def flush_telemetry(self) -> None:
        """Wait until every event emitted so far is in the database."""
        if self._sink is not None:
            self._sink.flush()

    def close(self) -> None:
        if self._borrowed:
            return
        if self._sink is not None:
            self._sink.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


@contextmanager
def app_context(json_output: bool = False) -> Iterator[AppContext]:
    """An ``AppContext`` closed (telemetry flushed, engine disposed) on exit."""
    ctx = AppContext(json_output=json_output)
    try:
        yield ctx
    finally:
        ctx.close()
