"""Group commit for the webhook inbox: many concurrent deliveries, one transaction.

A commit costs a disk flush (SQLite's WAL, PostgreSQL's WAL) and a round trip whatever
it holds, so one transaction per delivery caps the receiver at a few hundred deliveries
a second. Here every request adds its events to a queue and waits; one writer task takes
everything queued, stores it in a single transaction (``store_deliveries``) and only then
answers each request. Deliveries that arrive while a batch commits form the next batch,
so the batch grows with the load and an idle receiver still answers at once.

Right after a commit, the senders it answered are still sending their next request, so
the queue holds only the first of them: committing at once would flush a batch of one
and make the rest wait a whole flush for the next. So when fewer deliveries are queued
than the last batch held, the writer lingers (``linger_s``, at most) for them to arrive.
The first delivery after a pause never waits: an idle receiver commits at once.

Several transactions are in flight at once (``max_in_flight``): the deliveries queued
while one commits start the next at once instead of waiting for that commit. PostgreSQL's
concurrent commits share their WAL flushes; SQLite's take turns to write and then flush
the WAL at once, outside its write lock (``wal_flush.py``). Each delivery is answered
when its own transaction is on disk.

A request is answered only after the transaction holding its events has committed: a 200
always means stored. When the transaction fails, every request of the batch gets the
error and none of the batch is stored (one transaction), so each sender retries. The
writer runs only while there is work; ``drain`` waits for it (the app's shutdown).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from masterops.web.inbox import InboxEvent, StoreResult, store_deliveries
from masterops.web.wal_flush import WalFlush

#: Events one transaction takes at most; the rest wait for the next one. Large enough
#: to absorb 16+ HubSpot batches of 100, small enough to keep one commit short.
MAX_BATCH_EVENTS = 5000
#: Longest wait for the senders of the last batch to queue again before the next commit:
#: below the cost of one flush (~5 ms on this project's reference disk), far below a
#: sender's timeout. Measured in bench/webhook_ingest.py (``--linger-ms``).
LINGER_S = 0.002
#: Transactions in flight at once. PostgreSQL's concurrent commits share the server's
#: WAL flushes; SQLite's take turns writing but flush at once (``wal_flush.py``). So the
#: deliveries that arrive during one commit need not wait for it to end.
IN_FLIGHT = 3


def default_in_flight(engine: Engine, wal: WalFlush | None) -> int:
    """``IN_FLIGHT``; one on a SQLite database in memory (no file to flush apart from
    the commit, so a second transaction would only wait on the first's lock)."""
    return IN_FLIGHT if wal is not None or engine.dialect.name != "sqlite" else 1


@dataclass
class _Waiting:
    events: Sequence[InboxEvent]
    answer: asyncio.Future[StoreResult]


class GroupCommit:
    """Stores deliveries of concurrent requests in shared transactions.

    Holds no event loop until used: the futures and the writer task belong to the loop of
    the request that queued them, so an app can be built outside any loop.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch_events: int = MAX_BATCH_EVENTS,
        linger_s: float = LINGER_S,
        max_in_flight: int | None = None,
    ) -> None:
        self._engine = engine
        self._max_batch_events = max_batch_events
        self.linger_s = linger_s
        self._wal = WalFlush.of(engine)
        self.max_in_flight = max_in_flight or default_in_flight(engine, self._wal)
        self._queue: deque[_Waiting] = deque()
        self._queued: asyncio.Event | None = None  # set by each delivery queued
        self._writer: asyncio.Task[None] | None = None
        # For tests and benches: transactions committed or attempted, the deliveries
        # they held and the seconds they took (queued to committed, thread hop included).
        self.batches = 0
        self.batched_deliveries = 0
        self.batch_seconds = 0.0

    async def store(self, events: Sequence[InboxEvent]) -> StoreResult:
        """Store one delivery; returns once the transaction holding it has committed.

        Raises what the transaction raised (a ``SQLAlchemyError``: nothing of it stored).
        """
        loop = asyncio.get_running_loop()
        waiting = _Waiting(events, loop.create_future())
        self._queue.append(waiting)
        writer = self._writer
        # A writer of another loop (one that was closed mid-batch) can never run again.
        if writer is None or writer.done() or writer.get_loop() is not loop:
            self._queued = asyncio.Event()
            self._writer = loop.create_task(self._write())
        elif self._queued is not None:
            self._queued.set()
        # Shielded: a client that hangs up does not cancel its events' storage midway.
        return await asyncio.shield(waiting.answer)

    async def drain(self) -> None:
        """Wait until everything queued so far is stored (or has failed)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def _next_batch(self) -> list[_Waiting]:
        batch: list[_Waiting] = []
        size = 0
        while self._queue and (
            not batch or size + len(self._queue[0].events) <= self._max_batch_events
        ):
            waiting = self._queue.popleft()
            batch.append(waiting)
            size += len(waiting.events)
        return batch

    async def _linger(self, wanted: int) -> None:
        """Wait until ``wanted`` deliveries are queued, or ``linger_s`` has passed."""
        queued = self._queued
        if queued is None or self.linger_s <= 0:
            return
        deadline = asyncio.get_running_loop().time() + self.linger_s
        while len(self._queue) < wanted:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            queued.clear()
            try:
                await asyncio.wait_for(queued.wait(), remaining)
            except TimeoutError:
                return

    async def _write(self) -> None:
        last_size = 0
        running: set[asyncio.Task[None]] = set()
        try:
            while self._queue or running:
                if not self._queue or len(running) >= self.max_in_flight:
                    await self._wait_for_work_or_slot(running)
                    continue
                # Linger only when nothing is in flight: right after a commit, for the
                # senders it answered. While a transaction is in flight, the deliveries
                # queued meanwhile start their own at once: its commit is what they
                # would otherwise wait for.
                if not running and len(self._queue) < last_size:
                    await self._linger(last_size)
                batch = self._next_batch()
                last_size = len(batch)
                self.batches += 1
                self.batched_deliveries += last_size
                task = asyncio.get_running_loop().create_task(self._commit(batch))
                running.add(task)
        except BaseException:
            # Cancelled (the loop is closing): nobody is left to answer or to write.
            for task in running:
                task.cancel()
            for waiting in self._queue:
                waiting.answer.cancel()
            self._queue.clear()
            raise

    async def _wait_for_work_or_slot(self, running: set[asyncio.Task[None]]) -> None:
        """Wait until a transaction in flight ends or (with a slot free) a delivery is
        queued."""
        waits: set[asyncio.Future[Any]] = set(running)
        queued = self._queued
        if not self._queue and queued is not None and len(running) < self.max_in_flight:
            queued.clear()
            waits.add(asyncio.ensure_future(queued.wait()))
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        running.difference_update(done)
        for future in pending - running:
            future.cancel()

    async def _commit(self, batch: list[_Waiting]) -> None:
        """Store ``batch`` in one transaction (in a thread), then answer each request."""
        started = time.perf_counter()
        try:
            results = await run_in_threadpool(
                store_deliveries, self._engine, [w.events for w in batch], self._wal
            )
        except BaseException as exc:
            self.batch_seconds += time.perf_counter() - started
            for waiting in batch:
                if waiting.answer.done():
                    continue
                if isinstance(exc, Exception):
                    waiting.answer.set_exception(exc)
                else:  # cancelled: the loop is closing
                    waiting.answer.cancel()
            if not isinstance(exc, Exception):
                raise
            return
        self.batch_seconds += time.perf_counter() - started
        for waiting, result in zip(batch, results, strict=True):
            if not waiting.answer.done():
                waiting.answer.set_result(result)
