"""What every job-running process does besides its jobs: beat (``heartbeat.py``) and, at
each beat, take over the jobs of workers gone silent (``takeover.py``).

``ops worker`` ticks it from its main thread; ``ops serve --run-jobs``, whose main thread
serves HTTP, from a thread of its own (``in_background``). Either way the process is
listed by ``ops jobs workers``, feeds the "worker not seen" alert, can have its jobs
taken over when it goes silent, and takes over others'.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from masterops.jobs.heartbeat import Heartbeat
from masterops.jobs.takeover import TakeoverWatch

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.config import Config
    from masterops.observability.events import TelemetryHub

#: How often a tick looks whether a beat is due (the beat itself is every heartbeat_s).
TICK_S = 0.5


class Liveness:
    """The heartbeat and takeover watch of the worker ``worker_id`` (its executor id).
    ``say`` receives one line per takeover or failed check, for the process's console."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        hub: TelemetryHub,
        worker_id: str,
        *,
        say: Callable[[str], None],
    ) -> None:
        self.heartbeat = Heartbeat(engine, worker_id, interval_s=config.workers.heartbeat_s)
        self.watch = TakeoverWatch(config, engine, hub, worker_id)
        self.say = say

    def tick(self) -> None:
        """Beat if one is due; each beat also looks for silent workers and takes their
        jobs over (a failed check is said, and the next beat tries again)."""
        if not self.heartbeat.beat():
            return
        try:
            for takeover in self.watch.check():
                self.say(
                    f"took over {len(takeover.workflow_ids)} job(s) of silent worker "
                    f"{takeover.worker_id}"
                )
        except Exception as exc:
            self.say(f"takeover check failed: {type(exc).__name__}")

    def stopped(self) -> None:
        """Record a clean exit (``Heartbeat.stopped``)."""
        self.heartbeat.stopped()

    @contextmanager
    def in_background(self) -> Iterator[None]:
        """Tick on a thread of its own until the block ends, then record the stop. Enter
        it with DBOS launched (a takeover recovers jobs through it)."""
        stop = threading.Event()

        def run() -> None:
            self.tick()
            while not stop.wait(TICK_S):
                self.tick()

        thread = threading.Thread(target=run, name="masterops-liveness", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.stopped()
