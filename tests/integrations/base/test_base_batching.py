"""batch(): a sliding window with bounded concurrency and one result per item."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from masterops.integrations.base import FakeClock, batch


@settings(max_examples=50, deadline=None)
@given(
    durations=st.lists(st.integers(1, 20), min_size=0, max_size=40),
    concurrency=st.integers(1, 8),
    failing=st.sets(st.integers(0, 39)),
)
def test_sliding_window_results_in_input_order(
    durations: list[int], concurrency: int, failing: set[int]
) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        running = 0
        peak = 0
        starts: dict[int, float] = {}
        ends: dict[int, float] = {}
        progress: list[tuple[int, int]] = []

        async def work(i: int) -> int:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            starts[i] = clock.monotonic()
            await clock.sleep(durations[i])
            ends[i] = clock.monotonic()
            running -= 1
            if i in failing:
                raise ValueError(f"item {i}")
            return i * 10

        results = await clock.run(
            batch(
                range(len(durations)),
                work,
                concurrency=concurrency,
                on_progress=lambda done, total: progress.append((done, total)),
            )
        )
        assert [r.index for r in results] == list(range(len(durations)))
        for r in results:
            if r.item in failing:
                assert not r.ok and isinstance(r.error, ValueError)
            else:
                assert r.ok and r.value == r.item * 10
        assert peak <= concurrency
        assert progress == [(n, len(durations)) for n in range(1, len(durations) + 1)]
        # Sliding, not chunked: each item beyond the first window starts the moment an
        # earlier item finishes, never later.
        for i in range(concurrency, len(durations)):
            assert starts[i] in set(ends.values())

    asyncio.run(scenario())


async def test_stop_on_first_error_cancels_the_rest() -> None:
    clock = FakeClock()
    started: list[int] = []
    cancelled: list[int] = []

    async def work(i: int) -> int:
        started.append(i)
        try:
            await clock.sleep(1 if i == 2 else 100)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise
        if i == 2:
            raise KeyError("bad item")
        return i

    with pytest.raises(KeyError, match="bad item"):
        await clock.run(batch(range(10), work, concurrency=3, continue_on_error=False))
    assert started == [0, 1, 2]  # nothing new starts after the failure
    assert sorted(cancelled) == [0, 1]


async def test_empty_and_invalid() -> None:
    async def work(i: int) -> int:
        return i

    assert await batch([], work, concurrency=5) == []
    with pytest.raises(ValueError):
        await batch([1], work, concurrency=0)
