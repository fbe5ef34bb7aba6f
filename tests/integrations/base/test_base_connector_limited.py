"""``BaseConnector.limited()``: one attempt per call, one shared deadline, no breaker wait.

What a diagnosis needs (``ops test``), checked under a fake clock against the switchboard.
"""

from __future__ import annotations

import random

import httpx
import pytest
from base_helpers import make_connector
from base_switchboard import Reply, Slow, Switchboard

from masterops.integrations.base import (
    BreakerSettings,
    CircuitOpenError,
    ConnectorRuntime,
    FakeClock,
    IntegrationError,
    RetryPolicy,
    Timeouts,
)
from masterops.observability.events import EventRecorder, TelemetryHub

PATIENT = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=60.0, deadline=120.0)


def _setup(**kwargs):  # type: ignore[no-untyped-def]
    clock = FakeClock()
    recorder = EventRecorder()
    hub = TelemetryHub()
    hub.subscribe(recorder)
    runtime = ConnectorRuntime(hub=hub, clock=clock, rng=random.Random(0))
    board = Switchboard()
    conn = make_connector(
        runtime, "http://demo.test", transport=httpx.ASGITransport(board.app), **kwargs
    )
    return clock, board, conn


async def test_inside_limited_a_failing_call_makes_one_attempt() -> None:
    clock, board, conn = _setup(retry=PATIENT)
    board.script("/a", [Reply(503)] * 8)
    with conn.limited(5.0), pytest.raises(IntegrationError) as info:
        await clock.run(conn.request("GET", "/a", operation="a"))
    assert info.value.category.value == "SERVER" and board.hits("/a") == 1
    with pytest.raises(IntegrationError):  # outside the block the policy applies again
        await clock.run(conn.request("GET", "/a", operation="a"))
    assert board.hits("/a") == 1 + PATIENT.max_attempts


async def test_inside_limited_an_open_breaker_is_not_waited_for() -> None:
    clock, board, conn = _setup(
        retry=PATIENT, breaker=BreakerSettings(failure_threshold=1, cooldown=30.0)
    )
    board.script("/a", [Reply(503)])
    with conn.limited(5.0):
        with pytest.raises(IntegrationError):
            await clock.run(conn.request("GET", "/a", operation="a"))
        start = clock.monotonic()
        with pytest.raises(CircuitOpenError):
            await clock.run(conn.request("GET", "/a", operation="a"))
        assert clock.monotonic() == start  # failed at once, nothing slept
    assert board.hits("/a") == 1
    # the same call outside the block waits the cooldown out and gets through
    await clock.run(conn.request("GET", "/a", operation="a"))
    assert clock.monotonic() - start >= 30.0 and board.hits("/a") == 2


async def test_the_deadline_is_shared_by_every_call_in_the_block() -> None:
    clock, board, conn = _setup(retry=PATIENT, timeouts=Timeouts(total=30.0))
    board.script("/slow", [Slow(1000)])
    start = clock.monotonic()
    with conn.limited(2.0):
        with pytest.raises(IntegrationError) as slow:
            await clock.run(conn.request("GET", "/slow", operation="slow"))
        assert slow.value.category.value == "TIMEOUT"
        assert "within 2 s" in str(slow.value) and clock.monotonic() - start == 2.0
        with pytest.raises(IntegrationError) as late:
            await clock.run(conn.request("GET", "/next", operation="next"))
    assert late.value.category.value == "TIMEOUT" and not late.value.request_sent
    assert "the 2 s deadline had passed" in str(late.value)
    assert board.hits("/next") == 0
