"""A batched, bounded, background writer of rows into one table.

The caller's ``put`` only enqueues (never blocks, never raises); a daemon thread
writes batches with one multi-row INSERT, flushing when a batch is full, when
the interval passes, on ``flush()`` and at exit. When the database cannot take a
batch, its rows go to the fallback stream as JSON lines and are counted as
dropped: telemetry never blocks or crashes the operation that produced it.
"""

from __future__ import annotations

import atexit
import json
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, Table

from masterops.observability.raw_insert import RawInsert

Row = dict[str, Any]
Transform = Callable[[Row], Row]
#: Runs in the batch's own transaction after its INSERT (e.g. to add it to rollups).
AfterInsert = Callable[[Connection, list[Row]], None]


@dataclass
class WriterStats:
    queued: int = 0
    written: int = 0
    dropped: int = 0  # refused (queue full) or lost (database refused the batch)
    failed_batches: int = 0


class _Flush:
    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()
_live_writers: weakref.WeakSet[BatchWriter] = weakref.WeakSet()


class BatchWriter:
    """Writes rows into ``table`` in batches from a background thread.

    The queue is a ``deque`` (appends and pops are atomic) rather than
    ``queue.Queue``: its per-item locking cost more than the INSERT itself.
    """

    def __init__(
        self,
        engine: Engine,
        table: Table,
        *,
        transform: Transform | None = None,
        after_insert: AfterInsert | None = None,
        max_batch: int = 1_000,
        flush_interval: float = 0.5,
        max_queue: int = 100_000,
        fallback: TextIO | None = None,
    ) -> None:
        self.engine = engine
        self.table = table
        self.transform = transform
        self.after_insert = after_insert
        self.max_batch = max_batch
        self.flush_interval = flush_interval
        self.max_queue = max_queue
        self.fallback = fallback
        self.stats = WriterStats()
        self._insert = RawInsert(table)
        self._items: deque[Any] = deque()
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name=f"batch-writer-{table.name}", daemon=True
        )
        self._thread.start()
        _live_writers.add(self)

    def put(self, row: Row) -> bool:
        """Enqueue one row; False (and counted as dropped) when the queue is full or closed.

        The writer takes the dict as it is (no copy, this is the hot path): the caller
        must not change it afterwards."""
        if self._closed or len(self._items) >= self.max_queue:
            self.stats.dropped += 1
            return False
        self._items.append(row)
        self.stats.queued += 1
        if len(self._items) >= self.max_batch and not self._wake.is_set():
            self._wake.set()
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every row enqueued before this call is written (or dropped)."""
        if self._closed or not self._thread.is_alive():
            return True
        marker = _Flush()
        self._items.append(marker)
        self._wake.set()
        return marker.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._items.append(_STOP)
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            while self._items:
                batch: list[Row] = []
                markers: list[_Flush] = []
                stop = False
                while self._items and len(batch) < self.max_batch:
                    item = self._items.popleft()
                    if item is _STOP:
                        stop = True
                    elif isinstance(item, _Flush):
                        markers.append(item)
                    else:
                        batch.append(item)
                if batch:
                    self._write(batch)
                for marker in markers:
                    marker.done.set()
                if stop:
                    self._drain_after_stop()
                    return

    def _drain_after_stop(self) -> None:
        rest: list[Row] = []
        while self._items:
            item = self._items.popleft()
            if isinstance(item, _Flush):
                item.done.set()
            elif item is not _STOP:
                rest.append(item)
        for start in range(0, len(rest), self.max_batch):
            self._write(rest[start : start + self.max_batch])

    def _write(self, batch: list[Row]) -> None:
        try:
            rows = [self.transform(r) for r in batch] if self.transform else batch
        except Exception as exc:
            # Never fall back with untransformed rows: the transform is what redacts.
            self.stats.failed_batches += 1
            self.stats.dropped += len(batch)
            self._fall_back([], exc)
            return
        try:
            with self.engine.begin() as conn:
                self._insert.execute(conn, rows)
                if self.after_insert is not None:
                    self.after_insert(conn, rows)
            self.stats.written += len(rows)
        except Exception as exc:
            self.stats.failed_batches += 1
            self.stats.dropped += len(rows)
            self._fall_back(rows, exc)

    def _fall_back(self, batch: list[Row], exc: Exception) -> None:
        stream = self.fallback or sys.stderr
        try:
            stream.write(
                json.dumps(
                    {
                        "event": "telemetry_write_failed",
                        "table": self.table.name,
                        "rows": len(batch),
                        "error": type(exc).__name__,
                    }
                )
                + "\n"
            )
            for row in batch:
                stream.write(json.dumps(row, default=str) + "\n")
            stream.flush()
        except Exception:  # noqa: S110 - a broken stderr must not break the writer thread
            pass


def _close_all() -> None:
    for writer in list(_live_writers):
        writer.close(timeout=5.0)


atexit.register(_close_all)
