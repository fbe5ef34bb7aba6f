"""Time as the integration layer sees it: a ``Clock`` protocol, the real clock and a fake one.

Everything in ``integrations/base`` that waits or measures goes through a clock so that
tests can run hours of rate-limit windows, cooldowns and backoffs in milliseconds and
assert exact timestamps instead of timing the machine.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    """What the connector, limiter, breaker and retry loop need to know about time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (durations, deadlines)."""
        ...

    def now(self) -> datetime:
        """Timezone-aware UTC wall time (timestamps, HTTP-date ``Retry-After``)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds`` (0 or less just yields)."""
        ...

    def timeout(self, seconds: float | None) -> AbstractAsyncContextManager[object]:
        """Cancel the block after ``seconds`` (None: never) and raise ``TimeoutError``."""
        ...


class RealClock:
    """The process clock: ``time.monotonic``, ``asyncio.sleep`` and ``asyncio.timeout``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def timeout(self, seconds: float | None) -> AbstractAsyncContextManager[object]:
        # asyncio.timeout really cancels the task, which httpx's own timeouts do not do for
        # in-process transports.
        return asyncio.timeout(None if seconds is None else max(0.0, seconds))


class FakeClock:
    """A virtual clock for tests: time moves only when the test moves it.

    ``await clock.advance(seconds)`` moves time forward, waking sleepers and firing timeouts
    in deadline order and letting the woken tasks run before time moves on.
    ``await clock.run(coro)`` runs a coroutine to completion, jumping time to the next
    timer whenever every task is blocked ("autojump"), so a request that backs off for
    minutes finishes at once with exact virtual timestamps.
    """

    def __init__(self, start: float = 1000.0, wall: datetime | None = None) -> None:
        self._now = start
        self._wall_origin = (wall or datetime(2024, 1, 1, tzinfo=UTC)) - timedelta(seconds=start)
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cancelled: set[int] = set()

    def monotonic(self) -> float:
        return self._now

    def now(self) -> datetime:
        return self._wall_origin + timedelta(seconds=self._now)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        self._call_at(self._now + seconds, wake)
        await future

    @asynccontextmanager
    async def timeout(self, seconds: float | None) -> AsyncIterator[None]:
        if seconds is None:
            yield
            return
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(None) as cm:
            fired = False

            def expire() -> None:
                nonlocal fired
                if not fired:
                    fired = True
                    cm.reschedule(loop.time())

            cancel = self._call_at(self._now + max(0.0, seconds), expire)
            try:
                yield
            finally:
                fired = True  # a late timer must not cancel whatever the task does next
                cancel()

    def _call_at(self, when: float, callback: Callable[[], None]) -> Callable[[], None]:
        seq = next(self._seq)
        heapq.heappush(self._timers, (when, seq, callback))

        def cancel() -> None:
            # Lazy deletion: the entry stays in the heap and is skipped when it comes due.
            self._cancelled.add(seq)

        return cancel

    def next_timer(self) -> float | None:
        """The virtual time of the earliest pending timer, if any."""
        self._drop_cancelled()
        return self._timers[0][0] if self._timers else None

    def _drop_cancelled(self) -> None:
        while self._timers and self._timers[0][1] in self._cancelled:
            self._cancelled.discard(heapq.heappop(self._timers)[1])

    async def settle(self) -> None:
        """Let every runnable task run until all of them wait on the clock or on I/O."""
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready", None)  # CPython's run queue; a heuristic for tests
        rounds = 10_000 if ready is not None else 200
        for _ in range(rounds):
            await asyncio.sleep(0)
            if ready is not None and not ready:
                return

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing timers in order and settling after each."""
        target = self._now + max(0.0, seconds)
        await self.settle()
        while True:
            when = self.next_timer()
            if when is None or when > target:
                break
            self._fire_due(when)
            await self.settle()
        self._now = target
        await self.settle()

    def _fire_due(self, when: float) -> None:
        self._now = max(self._now, when)
        while self._timers and self._timers[0][0] <= self._now:
            _, seq, callback = heapq.heappop(self._timers)
            if seq in self._cancelled:
                self._cancelled.discard(seq)
            else:
                callback()

    async def run(self, awaitable: Awaitable[T], *, limit: float = 1e7) -> T:
        """Await ``awaitable`` while jumping virtual time whenever everything is blocked.

        ``limit`` bounds the virtual seconds a run may take, so a bug that waits forever
        fails the test instead of hanging it.
        """
        task = asyncio.ensure_future(awaitable)
        end = self._now + limit
        while not task.done():
            await self.settle()
            if task.done():
                break
            when = self.next_timer()
            if when is None:
                # Waiting on real I/O (a socket, a thread): give it real time.
                await asyncio.wait({task}, timeout=0.01)
                continue
            if when > end:
                task.cancel()
                raise RuntimeError(f"FakeClock.run exceeded its limit of {limit} virtual seconds")
            self._fire_due(when)
        return task.result()
