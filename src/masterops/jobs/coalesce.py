"""At most one run of a costly follow-up per interval in a process, however many jobs ask.

The alert rules are evaluated after every job (``durable._alerts_after``): about a dozen
queries over the whole database, ten times the cost of a short sync. A worker finishing
fifty jobs a second would spend most of its time re-reading rules that one evaluation
per interval answers as well, since the rules read the database's state, not the job.

``Coalescer.request``:

- when nothing ran within the interval, it runs at once, in the asking job's step, as it
  always did: after a quiet spell an alert is as prompt as before;
- otherwise the request is coalesced with any other made meanwhile, and one run follows
  on a timer thread as soon as the interval since the last run start is over.

So every request is followed, within ``interval_s`` plus one run, by a run that started
after it: the latency of an alert is bounded by the interval. ``close`` runs a request
still waiting (a worker stopping cleanly leaves none behind). A worker killed before a
deferred run loses only that run: the next evaluation anywhere (a job, a health round)
reads the same state. Runs never overlap within one process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Coalescer:
    """Runs ``action(reason)`` at most once per ``interval_s`` (see the module).
    ``interval_s`` 0 runs it on every request, in the requester's thread, as before."""

    def __init__(self, action: Callable[[str], None], *, interval_s: float) -> None:
        if interval_s < 0:
            raise ValueError(f"interval_s must be >= 0, got {interval_s}")
        self._action = action
        self._interval_s = interval_s
        self._lock = threading.Condition()
        # When the last run started (monotonic), whether one is running, what waits.
        self._last: float | None = None
        self._running = False
        self._waiting: str | None = None
        self._timer: threading.Timer | None = None
        self._closed = False

    def request(self, reason: str) -> bool:
        """Ask for a run; returns whether it ran now, in this thread (else it is due
        within the interval)."""
        if self._interval_s == 0 or self._closed:
            self._action(reason)
            return True
        with self._lock:
            if self._running or not self._quiet():
                self._waiting = reason
                self._arm()
                return False
            self._start()
        self._run(reason)
        return True

    def close(self) -> None:
        """Stop the timer and run what still waits, here; a later request runs at once,
        unpaced (a step still ending while its worker stops)."""
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        with self._lock:
            # A run in progress (a step's, or the timer's) ends before this one starts.
            self._lock.wait_for(lambda: not self._running)
            reason, self._waiting = self._waiting, None
            if reason is None:
                return
            self._start()
        self._run(reason)

    # -- under the lock --------------------------------------------------------------------

    def _quiet(self) -> bool:
        return self._last is None or time.monotonic() - self._last >= self._interval_s

    def _start(self) -> None:
        self._running = True
        self._last = time.monotonic()

    def _arm(self) -> None:
        """A timer for the waiting request, unless one is set or a run in progress will
        set it when it ends (or the coalescer is closing, which runs it)."""
        if self._timer is not None or self._running or self._closed:
            return
        assert self._last is not None  # not quiet, so something ran
        delay = max(0.0, self._last + self._interval_s - time.monotonic())
        self._timer = threading.Timer(delay, self._deferred)
        self._timer.daemon = True
        self._timer.name = "masterops-coalescer"
        self._timer.start()

    # -- outside the lock ------------------------------------------------------------------

    def _deferred(self) -> None:
        with self._lock:
            self._timer = None
            reason, self._waiting = self._waiting, None
            if reason is None or self._closed or self._running:
                if reason is not None:
                    self._waiting = reason  # close, or the run in progress, takes it
                return
            self._start()
        self._run(reason)

    def _run(self, reason: str) -> None:
        try:
            self._action(reason)
        finally:
            with self._lock:
                self._running = False
                self._lock.notify_all()
                if self._waiting is not None:
                    self._arm()
