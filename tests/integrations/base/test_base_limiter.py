"""The token bucket under a fake clock: window bound, rate, FIFO, learning, pauses."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from masterops.integrations.base import FakeClock, LimiterRegistry, LimitSpec, TokenBucket

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def max_in_window(times: list[float], period: float) -> int:
    """The most grants in any half-open window [s, s + period). The busiest window starts
    at a grant, so only those starts are checked."""
    times = sorted(times)
    best, end = 0, 0
    for start, s in enumerate(times):
        while end < len(times) and times[end] < s + period:
            end += 1
        best = max(best, end - start)
    return best


async def run_callers(
    clock: FakeClock, bucket: TokenBucket, arrivals: list[float]
) -> list[tuple[int, float]]:
    """Each caller sleeps until its arrival time, takes a token and records when."""
    grants: list[tuple[int, float]] = []

    async def caller(i: int, at: float) -> None:
        await clock.sleep(at)
        await bucket.acquire()
        grants.append((i, clock.monotonic()))

    await clock.run(asyncio.gather(*(caller(i, at) for i, at in enumerate(arrivals))))
    return grants


@PROPERTY
@given(
    capacity=st.integers(1, 12),
    period=st.sampled_from([0.2, 1.0, 10.0]),
    arrivals=st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=80),
)
def test_no_window_holds_more_than_capacity(
    capacity: int, period: float, arrivals: list[float]
) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        bucket = TokenBucket(LimitSpec(capacity, period), clock)
        start = clock.monotonic()
        grants = await run_callers(clock, bucket, arrivals)
        times = [t for _, t in grants]
        assert len(times) == len(arrivals)
        assert max_in_window(times, period) <= capacity
        # Nobody waits longer than needed: a caller is served by its arrival or when the
        # capacity-th earlier grant leaves the window.
        assert all(t >= start for t in times)

    asyncio.run(scenario())


@PROPERTY
@given(
    capacity=st.integers(1, 50),
    period=st.sampled_from([0.5, 1.0, 10.0]),
    callers=st.integers(1, 20),
    windows=st.integers(5, 40),
)
def test_sustained_rate_matches_the_configured_rate(
    capacity: int, period: float, callers: int, windows: int
) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        bucket = TokenBucket(LimitSpec(capacity, period), clock)
        total = capacity * windows
        times: list[float] = []
        remaining = [total]

        async def worker() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                await bucket.acquire()
                times.append(clock.monotonic())

        await clock.run(asyncio.gather(*(worker() for _ in range(callers))))
        elapsed = max(times) - min(times) + period  # the last window is a full one
        achieved = len(times) / elapsed
        assert abs(achieved - capacity / period) <= 0.02 * capacity / period
        assert max_in_window(times, period) <= capacity

    asyncio.run(scenario())


@PROPERTY
@given(
    capacity=st.integers(1, 5),
    callers=st.integers(2, 30),
    cancel=st.sets(st.integers(0, 29), max_size=10),
)
def test_waiters_are_served_in_arrival_order(capacity: int, callers: int, cancel: set[int]) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        bucket = TokenBucket(LimitSpec(capacity, 1.0), clock)
        for _ in range(capacity):
            await bucket.acquire()  # the bucket is now empty
        order: list[int] = []

        async def caller(i: int) -> None:
            await bucket.acquire()
            order.append(i)

        tasks = []
        for i in range(callers):
            tasks.append(asyncio.ensure_future(caller(i)))
            await clock.settle()  # caller i is queued before caller i + 1 arrives
        assert bucket.waiting == callers
        cancelled = {i for i in cancel if i < callers}
        for i in cancelled:
            tasks[i].cancel()
        await clock.settle()
        # A late arrival joins the back of the queue even when a token is free by then.
        await clock.advance(1.0)
        await clock.run(asyncio.gather(*tasks, return_exceptions=True))
        assert order == [i for i in range(callers) if i not in cancelled]
        assert bucket.waiting == 0

    asyncio.run(scenario())


async def test_a_new_arrival_does_not_overtake_waiters() -> None:
    clock = FakeClock()
    bucket = TokenBucket(LimitSpec(1, 1.0), clock)
    await bucket.acquire()
    order: list[str] = []

    async def take(name: str) -> None:
        await bucket.acquire()
        order.append(name)

    first = asyncio.ensure_future(take("first"))
    await clock.settle()
    await clock.advance(1.0)  # the token is back; "first" is being woken
    late = asyncio.ensure_future(take("late"))
    await clock.run(asyncio.gather(first, late))
    assert order == ["first", "late"]


@PROPERTY
@given(
    remaining=st.integers(0, 20),
    window=st.sampled_from([1.0, 10.0]),
    unseen=st.integers(0, 5),
)
def test_learns_from_the_remaining_header(remaining: int, window: float, unseen: int) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        bucket = TokenBucket(LimitSpec(100, 10.0), clock)
        seq = await bucket.acquire()
        for _ in range(unseen):  # granted after the observed request: not counted yet
            await bucket.acquire()
        start = clock.monotonic()
        bucket.observe(remaining, window, seq=seq)
        times: list[float] = []

        async def caller() -> None:
            await bucket.acquire()
            times.append(clock.monotonic())

        await clock.run(asyncio.gather(*(caller() for _ in range(30))))
        inside = [t for t in times if t < start + window]
        assert len(inside) == min(30, max(0, remaining - unseen))
        assert len(inside) + 1 + unseen <= 100  # our own limit still holds

    asyncio.run(scenario())


async def test_an_older_observation_is_ignored() -> None:
    clock = FakeClock()
    bucket = TokenBucket(LimitSpec(100, 10.0), clock)
    old = await bucket.acquire()
    new = await bucket.acquire()
    bucket.observe(0, 10.0, seq=new)
    bucket.observe(50, 10.0, seq=old)  # arrived late, says more than the newer figure
    assert bucket.delay() == pytest.approx(10.0)


@pytest.mark.parametrize("pause", [0.5, 7.0, 30.0])
async def test_pause_stops_the_bucket(pause: float) -> None:
    clock = FakeClock()
    bucket = TokenBucket(LimitSpec(10, 1.0), clock)
    start = clock.monotonic()
    bucket.pause(pause)
    bucket.pause(0.1)  # a shorter pause never shortens the current one
    times: list[float] = []

    async def caller() -> None:
        await bucket.acquire()
        times.append(clock.monotonic())

    await clock.run(asyncio.gather(*(caller() for _ in range(3))))
    assert times == [start + pause] * 3


async def test_acquire_can_be_cancelled_and_the_queue_moves_on() -> None:
    clock = FakeClock()
    bucket = TokenBucket(LimitSpec(1, 1.0), clock)
    await bucket.acquire()
    head = asyncio.ensure_future(bucket.acquire())
    second = asyncio.ensure_future(bucket.acquire())
    await clock.settle()
    head.cancel()
    await clock.settle()
    await clock.advance(1.0)
    assert second.done() and second.result() == 2


def test_registry_shares_buckets_per_service_account_and_name() -> None:
    registry = LimiterRegistry(FakeClock())
    spec = LimitSpec(100, 10.0)
    a = registry.get("hubspot", "teelixir", "default", spec)
    assert registry.get("hubspot", "teelixir", "default", LimitSpec(1, 1.0)) is a
    assert registry.get("hubspot", "teelixir", "search", LimitSpec(5, 1.0)) is not a
    assert registry.get("hubspot", "elevate", "default", spec) is not a
    rows = [(row["account"], row["bucket"]) for row in registry.snapshot()]
    assert rows == [("elevate", "default"), ("teelixir", "default"), ("teelixir", "search")]


def test_limit_spec_validates() -> None:
    with pytest.raises(ValueError, match="capacity"):
        LimitSpec(0, 1.0)
    with pytest.raises(ValueError, match="period"):
        LimitSpec(1, 0.0)
    assert LimitSpec(190, 10.0).rate == 19.0
