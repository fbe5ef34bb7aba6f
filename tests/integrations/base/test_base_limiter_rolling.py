"""The token bucket against a rolling-window service (HubSpot's "ten_secondly_rolling"),
under a fake clock: calls take time on the way there and back, the service counts each on
arrival and reports what is left, as the sandbox HubSpot does.

Properties: the service never sees more than its limit in any window (so no 429), and
while work is queued no token sits idle: every grant comes the moment a place frees.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_base_limiter import max_in_window

from masterops.integrations.base import FakeClock, LimitSpec, TokenBucket
from masterops.integrations.base.telemetry import RateLimitInfo

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2024, 1, 1, tzinfo=UTC)


class RollingService:
    """Counts a call on arrival; refuses (429, counting nothing) when ``limit`` calls
    arrived in the last ``window`` seconds; answers with what is left."""

    def __init__(self, clock: FakeClock, limit: int, window: float) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self._window: deque[float] = deque()
        self.counted: list[float] = []
        self.refused = 0

    def arrive(self) -> tuple[int, RateLimitInfo]:
        now = self.clock.monotonic()
        while self._window and self._window[0] <= now - self.window:
            self._window.popleft()
        if len(self._window) >= self.limit:
            self.refused += 1
            status = 429
        else:
            self._window.append(now)
            self.counted.append(now)
            status = 200
        left = self.limit - len(self._window)
        return status, RateLimitInfo(remaining=left, limit=self.limit, window=self.window)


@st.composite
def latencies(draw: st.DrawFn) -> list[tuple[float, float]]:
    """Per call: (time to reach the service, time for the answer to come back). The way
    back takes some time: with none, a place would come back exactly when the service
    drops the call, and float rounding of that instant would decide the test."""
    there = st.floats(0.0, 0.4, allow_nan=False)
    back = st.floats(0.001, 0.4, allow_nan=False)
    return draw(st.lists(st.tuples(there, back), min_size=1, max_size=40))


async def push(
    clock: FakeClock,
    bucket: TokenBucket,
    service: RollingService,
    calls: int,
    workers: int,
    legs: list[tuple[float, float]],
    *,
    report: bool = True,
) -> list[tuple[float, float]]:
    """``workers`` tasks make ``calls`` calls; returns (grant, answer) times per call."""
    done: list[tuple[float, float]] = []
    left = [calls]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            seq = await bucket.acquire()
            granted = clock.monotonic()
            there, back = legs[seq % len(legs)]
            await clock.sleep(there)
            status, info = service.arrive()
            await clock.sleep(back)
            if report:
                bucket.learn(info, seq, status=status, now=NOW)
            else:
                bucket.answered(seq)
            done.append((granted, clock.monotonic()))

    await clock.run(asyncio.gather(*(worker() for _ in range(workers))))
    return done


@PROPERTY
@given(
    capacity=st.integers(1, 30),
    workers=st.integers(1, 40),
    windows=st.integers(2, 8),
    legs=latencies(),
    report=st.booleans(),
)
def test_the_service_never_counts_more_than_its_limit_in_a_window(
    capacity: int, workers: int, windows: int, legs: list[tuple[float, float]], report: bool
) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        bucket = TokenBucket(LimitSpec(capacity, 10.0), clock)
        service = RollingService(clock, capacity, 10.0)
        await push(clock, bucket, service, capacity * windows, workers, legs, report=report)
        assert service.refused == 0
        assert max_in_window(service.counted, 10.0) <= capacity

    asyncio.run(scenario())


@PROPERTY
@given(
    capacity=st.integers(1, 30),
    workers=st.integers(1, 40),
    windows=st.integers(2, 8),
    legs=latencies(),
)
def test_no_token_sits_idle_while_work_is_queued(
    capacity: int, workers: int, windows: int, legs: list[tuple[float, float]]
) -> None:
    async def scenario() -> None:
        clock = FakeClock()
        start = clock.monotonic()
        bucket = TokenBucket(LimitSpec(capacity, 10.0), clock)
        service = RollingService(clock, capacity, 10.0)
        calls = await push(clock, bucket, service, capacity * windows, workers, legs)
        # Each grant is the first moment the bucket allows: at the start, when a worker
        # became free (its previous answer) or when a token came back (an answer + 10 s).
        answers = {round(a, 9) for _, a in calls}
        back = {round(a + 10.0, 9) for _, a in calls}
        for granted, _ in calls:
            moment = round(granted, 9)
            assert moment == round(start, 9) or moment in answers or moment in back

    asyncio.run(scenario())


def test_a_full_window_frees_its_places_one_by_one() -> None:
    """The 0.81-0.85 regression: a "0 remaining" answer used to stop the bucket until a
    whole window after that answer; the window is rolling, so the first call's place is
    free one window after the first call's answer."""

    async def scenario() -> None:
        clock = FakeClock()
        bucket = TokenBucket(LimitSpec(100, 10.0), clock)
        service = RollingService(clock, 100, 10.0)
        start = clock.monotonic()
        calls = await push(clock, bucket, service, 300, 10, [(0.01, 0.01)])
        grants = sorted(g for g, _ in calls)
        assert service.refused == 0
        assert grants[100] - start == pytest.approx(10.02)  # the first answer (0.02 s) + one window
        # Each place is taken again one window after its previous call was answered (a
        # burst stays a burst: that is the rolling window), not a window after the last
        # answer of the burst: 100 calls per 10.02 s sustained.
        assert all(grants[k + 100] - grants[k] < 10.03 for k in range(200))
        rate = 200 / (grants[299] - grants[99])
        assert rate >= 0.99 * 100 / 10.02

    asyncio.run(scenario())


async def test_calls_another_process_made_hold_their_places_for_a_window() -> None:
    clock = FakeClock()
    bucket = TokenBucket(LimitSpec(10, 10.0), clock)
    seq = await bucket.acquire()
    await clock.advance(0.1)
    # The service counted 10: ours and 9 we did not make. Ours comes back 10 s after its
    # answer; the other 9 are held until a window after the figure.
    bucket.learn(RateLimitInfo(remaining=0, window=10.0), seq, status=200, now=NOW)
    assert bucket.delay() == pytest.approx(10.0)
    await clock.advance(10.0)
    assert bucket.try_acquire() is not None
    assert bucket.delay() <= 0.0  # the figure has expired: our own window alone decides


async def test_the_services_figure_frees_a_place_our_window_still_holds() -> None:
    """A slow answer keeps its place in our window one window after the answer, but the
    service counted the call on arrival: its figure may say the place is free sooner."""
    clock = FakeClock()
    bucket = TokenBucket(LimitSpec(2, 10.0), clock)
    first, second = await bucket.acquire(), await bucket.acquire()
    await clock.advance(0.1)
    bucket.learn(RateLimitInfo(remaining=1, window=10.0), first, status=200, now=NOW)
    await clock.advance(9.8)  # the second call's answer took 9.9 s
    bucket.learn(RateLimitInfo(remaining=0, window=10.0), second, status=200, now=NOW)
    await clock.advance(0.2)  # 10.1 s: the first call's place is back
    third = bucket.try_acquire()
    assert third is not None
    assert bucket.delay() == pytest.approx(9.8)  # ours: the second's place until 19.9 s
    await clock.advance(0.1)
    # The service counted the second call at 0 s: by now only the third is in its window.
    bucket.learn(RateLimitInfo(remaining=1, window=10.0), third, status=200, now=NOW)
    assert bucket.try_acquire() is not None
    assert bucket.delay() > 0  # and the figure is spent
