"""BaseConnector under a fake clock: whole calls of random faults, checked for the rules
that must always hold (the deadline, no repeated create, exact Retry-After pauses)."""

from __future__ import annotations

import asyncio
import email.utils
import random
from datetime import timedelta

import httpx
import pytest
from base_helpers import make_connector
from base_switchboard import Reply, Slow, Step, Switchboard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from masterops.integrations.base import (
    BaseConnector,
    ConnectorRuntime,
    FakeClock,
    HealthResult,
    IntegrationError,
    LimitSpec,
    RetryPolicy,
    Timeouts,
    batch,
)
from masterops.observability.events import EventRecorder, TelemetryHub

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class RefusingTransport(httpx.AsyncBaseTransport):
    """Refuses the connection for the attempts listed in ``refuse``, else delegates."""

    def __init__(self, inner: httpx.AsyncBaseTransport, refuse: set[int]) -> None:
        self.inner = inner
        self.refuse = refuse
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.attempts in self.refuse:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


def fake_runtime(seed: int = 0) -> tuple[FakeClock, ConnectorRuntime, EventRecorder]:
    clock = FakeClock()
    recorder = EventRecorder()
    hub = TelemetryHub()
    hub.subscribe(recorder)
    return clock, ConnectorRuntime(hub=hub, clock=clock, rng=random.Random(seed)), recorder


steps = st.one_of(
    st.sampled_from([200, 201, 400, 404, 500, 502, 503, 504]).map(lambda s: Reply(s)),
    st.integers(0, 90).map(lambda s: Reply(429, headers={"Retry-After": str(s)})),
    st.just(Reply(429)),
    st.floats(0.5, 100).map(lambda s: Slow(s)),
)


def is_unsent(step: Step | str) -> bool:
    return step == "refused" or (isinstance(step, Reply) and step.status == 429)


@PROPERTY
@given(
    script=st.lists(steps, max_size=8),
    refuse=st.sets(st.integers(1, 8), max_size=3),
    method=st.sampled_from(["GET", "POST", "PATCH", "PUT"]),
    idempotent=st.sampled_from([None, True]),
    deadline=st.floats(1.0, 120.0),
    attempts=st.integers(1, 8),
    seed=st.integers(0, 100),
)
def test_every_call_respects_deadline_and_idempotency(
    script: list[Step],
    refuse: set[int],
    method: str,
    idempotent: bool | None,
    deadline: float,
    attempts: int,
    seed: int,
) -> None:
    async def scenario() -> None:
        clock, runtime, recorder = fake_runtime(seed)
        board = Switchboard()
        board.script("/objects", list(script))
        transport = RefusingTransport(httpx.ASGITransport(app=board.app), refuse)
        policy = RetryPolicy(
            max_attempts=attempts, base_delay=0.5, max_delay=10.0, deadline=deadline
        )
        conn = make_connector(
            runtime, "http://demo.test", transport=transport, retry=policy,
            timeouts=Timeouts(connect=5, read=30, total=20.0),
            limits={"default": LimitSpec(100, 10.0)},
        )  # fmt: skip
        start = clock.monotonic()
        try:
            await clock.run(
                conn.request(method, "/objects", json={}, operation="op", idempotent=idempotent)
            )
            ok = True
        except IntegrationError:
            ok = False
        elapsed = clock.monotonic() - start
        await conn.aclose()

        assert elapsed <= deadline + 1e-6
        # What the attempts met, in order: a refused connection or a scripted step.
        met: list[Step | str] = []
        served = iter(script)
        for n in range(1, transport.attempts + 1):
            met.append("refused" if n in refuse else next(served, Reply()))
        assert transport.attempts <= attempts
        safe_to_repeat = idempotent or method in ("GET", "PUT")
        if not safe_to_repeat:
            # Every attempt but the last was provably never received.
            assert all(is_unsent(step) for step in met[:-1])
        assert board.hits("/objects") == sum(1 for step in met if step != "refused")
        assert len(recorder.api_calls) == transport.attempts
        if ok:
            assert recorder.api_calls[-1].success
        else:
            assert [e.status for e in recorder.logs].count("failure") == 1

    asyncio.run(scenario())


@PROPERTY
@given(seconds=st.integers(0, 300), form=st.sampled_from(["seconds", "http-date"]))
def test_retry_after_is_exact_and_pauses_the_shared_bucket(seconds: int, form: str) -> None:
    async def scenario() -> None:
        clock, runtime, recorder = fake_runtime()
        board = Switchboard()
        header = (
            str(seconds)
            if form == "seconds"
            else email.utils.format_datetime(clock.now() + timedelta(seconds=seconds), usegmt=True)
        )
        board.script("/things", [Reply(429, headers={"Retry-After": header})])
        policy = RetryPolicy(deadline=600.0)
        transport = httpx.ASGITransport(board.app)
        conn = make_connector(runtime, "http://demo.test", transport=transport, retry=policy)
        start = clock.monotonic()
        other_waited: list[float] = []

        async def other_caller() -> None:
            await clock.sleep(min(seconds, 0.5))  # arrives during the pause, same bucket
            await conn.bucket().acquire()
            other_waited.append(clock.monotonic() - start)

        await clock.run(
            asyncio.gather(
                conn.request("POST", "/things", json={}, operation="create"), other_caller()
            )
        )
        calls = recorder.api_calls
        assert [c.status_code for c in calls] == [429, 200]
        assert calls[1].created_at - calls[0].created_at == timedelta(seconds=seconds)
        assert other_waited == [float(seconds)]  # the whole bucket was paused

    asyncio.run(scenario())


async def test_429_without_retry_after_pauses_for_the_bucket_period() -> None:
    clock, runtime, recorder = fake_runtime()
    board = Switchboard()
    board.script("/search", [Reply(429, {"message": "You have reached your secondly limit."})])
    conn = make_connector(runtime, "http://demo.test", transport=httpx.ASGITransport(board.app))
    await clock.run(conn.request("POST", "/search", json={}, operation="search", bucket="search"))
    first, second = recorder.api_calls
    assert second.created_at - first.created_at == timedelta(seconds=1)  # the 5/s bucket


async def test_remaining_header_caps_the_shared_bucket_until_the_window_ends() -> None:
    clock, runtime, _recorder = fake_runtime()
    board = Switchboard()
    board.default_headers["/crm"] = {
        "X-HubSpot-RateLimit-Remaining": "0",
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
    }
    transport = httpx.ASGITransport(board.app)
    conn = make_connector(runtime, "http://demo.test", transport=transport)
    twin = make_connector(runtime, "http://demo.test", transport=transport)  # same account
    start = clock.monotonic()
    await clock.run(conn.request("GET", "/crm", operation="a"))
    await clock.run(twin.request("GET", "/crm", operation="b"))
    assert clock.monotonic() - start == 10.0


async def test_attempt_timeout_cancels_at_exactly_total() -> None:
    clock, runtime, recorder = fake_runtime()
    board = Switchboard()
    board.script("/slow", [Slow(1000)])
    conn = make_connector(
        runtime, "http://demo.test", transport=httpx.ASGITransport(board.app),
        timeouts=Timeouts(total=2.5), retry=RetryPolicy(max_attempts=1),
    )  # fmt: skip
    with pytest.raises(IntegrationError) as info:
        await clock.run(conn.request("GET", "/slow", operation="slow"))
    assert info.value.category.value == "TIMEOUT"
    assert recorder.api_calls[0].duration_ms == 2500.0
    assert board.cancelled == ["/slow"]


async def test_limiter_wait_past_the_deadline_fails_fast_without_sending() -> None:
    clock, runtime, recorder = fake_runtime()
    board = Switchboard()
    conn = make_connector(
        runtime, "http://demo.test", transport=httpx.ASGITransport(board.app),
        limits={"default": LimitSpec(1, 60.0)}, retry=RetryPolicy(deadline=30.0),
    )  # fmt: skip
    await clock.run(conn.request("GET", "/a", operation="first"))
    with pytest.raises(IntegrationError) as info:
        await clock.run(conn.request("GET", "/a", operation="second"))
    assert info.value.category.value == "RATE_LIMIT" and not info.value.request_sent
    assert board.hits("/a") == 1 and len(recorder.api_calls) == 1


async def test_connector_contract() -> None:
    clock, runtime, _ = fake_runtime()

    class Nameless(BaseConnector):
        async def probe(self) -> None:
            return None

    with pytest.raises(TypeError, match="service"):
        Nameless(business_id="b", runtime=runtime, base_url="http://x.test")
    conn = make_connector(runtime, "http://nowhere.invalid")  # constructing connects nothing
    with pytest.raises(ValueError, match="no rate-limit bucket 'bulk'"):
        await conn.request("GET", "/x", operation="op", bucket="bulk")
    await conn.aclose()
    disabled = HealthResult.disabled("unleashed", "teelixir", "no API key", clock.now())
    assert disabled.status == "disabled" and not disabled.ok
    assert disabled.to_dict()["checked_at"] == "2024-01-01T00:00:00+00:00"


async def test_batch_through_the_connector_keeps_the_search_limit() -> None:
    clock, runtime, recorder = fake_runtime()
    board = Switchboard()
    for n in (3, 17):
        board.script(f"/search/{n}", [Reply(400, {"message": f"bad query {n}"})])
    conn = make_connector(runtime, "http://demo.test", transport=httpx.ASGITransport(board.app))

    async def search(n: int) -> int:
        response = await conn.request(
            "POST", "/search/{n}", path_params={"n": n}, json={}, operation="search",
            bucket="search", idempotent=True,
        )  # fmt: skip
        return int(response.json()["path"].rsplit("/", 1)[1])

    results = await clock.run(batch(range(40), search, concurrency=8))
    assert [r.value for r in results if r.ok] == [n for n in range(40) if n not in (3, 17)]
    assert [r.index for r in results if not r.ok] == [3, 17]
    sent = sorted(c.created_at.timestamp() for c in recorder.api_calls)
    assert len(sent) == 40
    busiest = max(sum(1 for u in sent if t <= u < t + 1.0) for t in sent)
    assert busiest == 5  # the 5-per-second search bucket, saturated and never exceeded
