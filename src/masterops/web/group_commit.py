"""Group commit for the webhook inbox: many concurrent deliveries, one transaction.

A commit costs a disk flush (SQLite's WAL, PostgreSQL's WAL) and a round trip whatever
it holds, so one transaction per delivery caps the receiver at a few hundred deliveries
a second. Here every request adds its events to a queue and waits; one writer task takes
everything queued, stores it in a single transaction (``store_deliveries``) and only then
answers each request. Deliveries that arrive while a batch commits form the next batch,
so the batch grows with the load and an idle receiver still answers at once.

A request is answered only after the transaction holding its events has committed: a 200
always means stored. When the transaction fails, every request of the batch gets the
error and none of the batch is stored (one transaction), so each sender retries. The
writer runs only while there is work; ``drain`` waits for it (the app's shutdown).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from masterops.web.inbox import InboxEvent, StoreResult, store_deliveries

#: Events one transaction takes at most; the rest wait for the next one. Large enough
#: to absorb 16+ HubSpot batches of 100, small enough to keep one commit short.
MAX_BATCH_EVENTS = 5000


@dataclass
class _Waiting:
    events: Sequence[InboxEvent]
    answer: asyncio.Future[StoreResult]


class GroupCommit:
    """Stores deliveries of concurrent requests in shared transactions.

    Holds no event loop until used: the futures and the writer task belong to the loop of
    the request that queued them, so an app can be built outside any loop.
    """

    def __init__(self, engine: Engine, *, max_batch_events: int = MAX_BATCH_EVENTS) -> None:
        self._engine = engine
        self._max_batch_events = max_batch_events
        self._queue: deque[_Waiting] = deque()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # transactions committed or attempted (for tests and benches)

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
            self._writer = loop.create_task(self._write())
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

    async def _write(self) -> None:
        while self._queue:
            batch = self._next_batch()
            self.batches += 1
            try:
                results = await run_in_threadpool(
                    store_deliveries, self._engine, [w.events for w in batch]
                )
            except Exception as exc:
                for waiting in batch:
                    if not waiting.answer.done():
                        waiting.answer.set_exception(exc)
                continue
            except BaseException:
                # Cancelled (the loop is closing): nobody is left to answer or to write.
                for waiting in (*batch, *self._queue):
                    waiting.answer.cancel()
                self._queue.clear()
                raise
            for waiting, result in zip(batch, results, strict=True):
                if not waiting.answer.done():
                    waiting.answer.set_result(result)
