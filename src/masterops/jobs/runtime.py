"""Starting and stopping DBOS for one process: its configuration, identity and lifetime.

Every process that runs jobs (``ops worker``, ``ops worker --once``, the tests) goes
through ``launched``. Two settings are never left to DBOS's defaults:

- ``application_version`` is the package version. DBOS's default is a hash of the
  workflow code, so an edit or a ``dbos`` upgrade would strand the work still pending
  under the old hash; an explicit version keeps every worker of a release on one value.
- ``executor_id`` is ``<hostname>-<worker name>``: stable across restarts, so a worker
  that died resumes its own pending workflows when it starts again, and distinct between
  processes, because two processes sharing an id each recover the other's work.

``dbos`` is imported only inside these functions: importing it costs about half a second,
which no command that does not run jobs should pay.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from masterops import __version__
from masterops.config import Config
from masterops.operations.jobs import APP_NAME, system_database

if TYPE_CHECKING:
    from dbos import DBOSConfig

# DBOS logs every launch and queue at INFO; a worker's own output says what matters.
_DBOS_LOG_LEVELS = {"debug": "DEBUG", "info": "WARNING", "warn": "WARNING", "error": "ERROR"}


def executor_id(worker_name: str) -> str:
    """This process's identity in the system database (see the module docstring)."""
    name = worker_name.strip()
    if not name:
        raise ValueError("a worker name must not be empty")
    return f"{socket.gethostname()}-{name}"


def dbos_config(
    config: Config,
    *,
    worker_name: str,
    polling_interval_s: float = 1.0,
    application_version: str = __version__,
) -> DBOSConfig:
    """The DBOS configuration of this process. ``polling_interval_s`` is how often DBOS
    looks for finished workflows and notifications; tests make it short.
    ``application_version``: the package's, always, except in the test that runs two
    releases side by side on one system database."""
    url, schema = system_database(config)
    return {
        "name": APP_NAME,
        "system_database_url": url,
        "dbos_system_schema": schema,
        "application_version": application_version,
        "executor_id": executor_id(worker_name),
        "notification_listener_polling_interval_sec": polling_interval_s,
        "log_level": _DBOS_LOG_LEVELS.get(config.log_level, "WARNING"),
        # A small pool: a worker runs a handful of jobs at once, and on PostgreSQL the
        # system database is the platform's, shared with its own connections.
        "sys_db_pool_size": 5,
    }


def _log_to_current_stderr() -> None:
    """DBOS's console handler keeps the stderr of the first launch in this process; point
    it at today's (a second launch in one process, e.g. in tests, found it closed)."""
    import logging
    import sys

    for handler in logging.getLogger("dbos").handlers:
        if type(handler) is logging.StreamHandler and handler.stream is not sys.stderr:
            # Not setStream(): it flushes the old stream first, which may be closed.
            handler.acquire()
            try:
                handler.stream = sys.stderr
            finally:
                handler.release()


@contextmanager
def launched(
    config: Config,
    *,
    worker_name: str,
    queues: Sequence[str] | None = None,
    polling_interval_s: float = 1.0,
    application_version: str = __version__,
) -> Iterator[None]:
    """DBOS launched for this process, with every job workflow registered; destroyed on
    exit. Workflows still running then are left pending, and resume when a process with
    the same worker name starts again.

    ``queues``: the only queues this process takes work from (None: all of them). A
    process that runs one job and exits passes ``()``, so that it never picks up work
    it would abandon half-done.

    The job steps share one context built here (``durable.process_context``): the
    configuration ``config``, the engine with its schema checked, the telemetry hub.

    One at a time per process: DBOS is a process-wide singleton.
    """
    from dbos import DBOS

    # The decorators register the workflows; recovery at launch needs them known.
    import masterops.jobs.housekeeping  # noqa: F401  (registers its workflows)
    from masterops.jobs.durable import process_context

    settings = dbos_config(
        config,
        worker_name=worker_name,
        polling_interval_s=polling_interval_s,
        application_version=application_version,
    )
    _log_to_current_stderr()
    if system_database(config)[0].startswith("sqlite"):
        Path(config.home).mkdir(parents=True, exist_ok=True)
    with process_context(config):
        DBOS(config=settings)
        try:
            if queues is not None:
                DBOS.listen_queues(list(queues))
            DBOS.launch()
            yield
        finally:
            # Never destroy_registry=True: the workflows register once, at import.
            DBOS.destroy()
