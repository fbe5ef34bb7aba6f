"""What a command needs, built lazily: configuration, database, telemetry."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine

from masterops.cli.errors import SchemaBehind
from masterops.config import Config, load_config
from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.observability.console import ConsoleLog
from masterops.observability.db_sink import DatabaseSink
from masterops.observability.events import TelemetryHub


class AppContext:
    """One per command invocation. Nothing is read or connected until asked for."""

    def __init__(self, *, json_output: bool = False) -> None:
        self.json_output = json_output
        self._sink: DatabaseSink | None = None

    @cached_property
    def config(self) -> Config:
        return load_config()

    @cached_property
    def engine(self) -> Engine:
        return create_db_engine(
            self.config.database_url.get_secret_value(), limits=self.config.limits.database
        )

    def database(self) -> Engine:
        """The engine with the schema ready: the embedded SQLite default migrates itself;
        any other database must be upgraded explicitly with ``ops db upgrade``."""
        engine = self.engine
        pending = migrate.pending_revisions(engine)
        if pending:
            if self.config.database_is_default or engine.dialect.name == "sqlite":
                migrate.upgrade(engine)
            else:
                raise SchemaBehind(
                    f"the database schema is behind ({len(pending)} migration(s) pending): "
                    "run `ops db upgrade`"
                )
        return engine

    @cached_property
    def hub(self) -> TelemetryHub:
        """A hub whose events reach the terminal and, batched, the database."""
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

    def flush_telemetry(self) -> None:
        """Wait until every event emitted so far is in the database."""
        if self._sink is not None:
            self._sink.flush()

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
