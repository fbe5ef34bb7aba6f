"""The fake clock the other tests rely on, and the real one's timeout."""

from __future__ import annotations

import asyncio

import pytest

from masterops.integrations.base import FakeClock, RealClock


async def test_sleepers_wake_in_order_at_exact_times() -> None:
    clock = FakeClock(start=0.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    tasks = [asyncio.ensure_future(sleeper(n, s)) for n, s in [("b", 2.0), ("a", 1.0), ("c", 3.0)]]
    await clock.advance(2.5)
    assert woke == [("a", 1.0), ("b", 2.0)]
    await clock.advance(1.0)
    assert woke[-1] == ("c", 3.0)
    await asyncio.gather(*tasks)


async def test_timeout_cancels_at_the_virtual_deadline() -> None:
    clock = FakeClock(start=0.0)

    async def slow() -> None:
        async with clock.timeout(5.0):
            await clock.sleep(60.0)

    with pytest.raises(TimeoutError):
        await clock.run(slow())
    assert clock.monotonic() == 5.0

    async def quick() -> str:
        async with clock.timeout(5.0):
            await clock.sleep(1.0)
        await clock.sleep(10.0)  # the expired timer must not fire later
        return "done"

    assert await clock.run(quick()) == "done"


async def test_run_jumps_and_reports_runaway_waits() -> None:
    clock = FakeClock(start=0.0)
    await clock.run(clock.sleep(3600.0))
    assert clock.monotonic() == 3600.0
    assert clock.now().isoformat() == "2024-01-01T01:00:00+00:00"
    with pytest.raises(RuntimeError, match="limit"):
        await clock.run(clock.sleep(1e9), limit=10.0)


async def test_real_clock_timeout_really_cancels() -> None:
    clock = RealClock()
    cancelled = asyncio.Event()

    async def stuck() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        async with clock.timeout(0.01):
            await stuck()
    assert cancelled.is_set()
    assert clock.now().tzinfo is not None
