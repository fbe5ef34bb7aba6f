"""``batch()``: run many items through an async function with bounded concurrency.

A sliding window, not chunks: ``concurrency`` items are in flight and the next one starts
as soon as any of them finishes, so one slow item never holds up a whole chunk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class BatchResult(Generic[T, R]):
    """The outcome for the item at ``index``: ``ok`` with ``value``, or ``error``."""

    index: int
    item: T
    ok: bool
    value: R | None = None
    error: Exception | None = None


async def batch(
    items: Iterable[T],
    fn: Callable[[T], Awaitable[R]],
    *,
    concurrency: int,
    continue_on_error: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[BatchResult[T, R]]:
    """Apply ``fn`` to every item, at most ``concurrency`` at a time.

    Returns one ``BatchResult`` per item, in input order. With ``continue_on_error`` a
    failing item is recorded and the rest go on; without it the first failure cancels the
    items in flight, starts no new one and is raised. ``on_progress(done, total)`` is
    called after each item finishes (it must not block). Cancelling the caller cancels
    every item in flight.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    pending = list(enumerate(items))
    total = len(pending)
    results: list[BatchResult[T, R] | None] = [None] * total
    queue = iter(pending)
    done = 0
    first_error: Exception | None = None
    workers: list[asyncio.Task[None]] = []

    async def worker() -> None:
        nonlocal done, first_error
        for index, item in queue:
            try:
                value = await fn(item)
            except Exception as exc:
                results[index] = BatchResult(index, item, ok=False, error=exc)
                if not continue_on_error:
                    if first_error is None:
                        first_error = exc
                        current = asyncio.current_task()
                        for other in workers:
                            if other is not current:
                                other.cancel()
                    return
            else:
                results[index] = BatchResult(index, item, ok=True, value=value)
            done += 1
            if on_progress is not None:
                on_progress(done, total)
            if first_error is not None:
                return

    workers.extend(asyncio.create_task(worker()) for _ in range(min(concurrency, total)))
    try:
        await asyncio.gather(*workers, return_exceptions=True)
    except asyncio.CancelledError:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    if first_error is not None:
        raise first_error
    # An item whose function was cancelled from inside (not by us) still gets its result.
    return [
        result
        if result is not None
        else BatchResult(index, item, ok=False, error=RuntimeError("the item was cancelled"))
        for (index, item), result in zip(pending, results, strict=True)
    ]
