"""A worker's heartbeat: its ``worker_heartbeats`` row, refreshed every
``[workers] heartbeat_s`` while it runs and marked "stopped" when it exits cleanly.

The row is what the "worker not seen" alert reads, what ``ops jobs workers`` shows, and
how live workers tell a dead one (``takeover``). A database that cannot take a beat is
not the worker's end: its jobs say so themselves, and a missing heartbeat is exactly
what the alert and the takeover are for.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from masterops.operations.alerts import worker_heartbeat

if TYPE_CHECKING:
    from sqlalchemy import Engine


class Heartbeat:
    """The heartbeat of the worker ``worker_id`` (its executor id)."""

    def __init__(self, engine: Engine, worker_id: str, *, interval_s: float) -> None:
        self.engine = engine
        self.worker_id = worker_id
        self.interval_s = interval_s
        self.started_at = datetime.now(UTC)
        self._last: float | None = None

    def due(self) -> bool:
        """Whether a beat is due (the first always is)."""
        return self._last is None or time.monotonic() - self._last >= self.interval_s

    def beat(self) -> bool:
        """Record the beat if one is due; returns whether it was due."""
        if not self.due():
            return False
        self._last = time.monotonic()
        with contextlib.suppress(Exception):
            worker_heartbeat(self.engine, self.worker_id, started_at=self.started_at)
        return True

    def stopped(self) -> None:
        """Record a clean exit: the worker is not silent, it is gone on purpose."""
        with contextlib.suppress(Exception):
            worker_heartbeat(
                self.engine, self.worker_id, started_at=self.started_at, state="stopped"
            )
