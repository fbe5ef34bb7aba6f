"""BaseConnector against a real HTTP app: in-process (ASGI transport) and over loopback
(uvicorn), with 429s, 5xx bursts, slow answers, broken connections and ugly bodies."""

from __future__ import annotations

import asyncio
import email.utils
from datetime import timedelta

import pytest
from base_helpers import (
    FAST_RETRY,
    BreakingServer,
    SkipClock,
    Target,
    make_connector,
)
from base_switchboard import SIGNING_KEY, TOKEN, Reply, Slow, Switchboard

from masterops.integrations.base import (
    BreakerSettings,
    CircuitOpenError,
    ConnectorRuntime,
    ErrorCategory,
    HealthSettings,
    IntegrationError,
    RetryPolicy,
    Timeouts,
)
from masterops.observability.events import ApiCall, EventRecorder, LogEvent

TEMPLATE = "/crm/v3/objects/{type}/{id}"


def all_text(recorder: EventRecorder) -> str:
    return "\n".join(repr(event) for event in recorder.events)


async def test_success_is_one_templated_api_call(
    target: Target, board: Switchboard, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        response = await conn.request(
            "GET",
            TEMPLATE,
            path_params={"type": "contacts", "id": "98765"},
            params={"email": "ann@example.com"},
            operation="get_contact",
        )
    assert response.json() == {"ok": True, "path": "/crm/v3/objects/contacts/98765"}
    [call] = recorder.api_calls
    assert call.endpoint == TEMPLATE
    assert (call.method, call.status_code, call.success) == ("GET", 200, True)
    assert call.operation == "get_contact" and call.business_id == "teelixir"
    assert call.response_size_bytes == len(response.content)
    assert call.duration_ms >= 0
    assert "98765" not in all_text(recorder) and "ann@example.com" not in all_text(recorder)
    assert recorder.logs == []


async def test_path_params_are_url_quoted(
    target: Target, board: Switchboard, runtime: ConnectorRuntime
) -> None:
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        await conn.request(
            "GET", TEMPLATE, path_params={"type": "contacts", "id": "a b/c?d"}, operation="get"
        )
    [seen] = board.seen
    assert seen.raw_path == b"/crm/v3/objects/contacts/a%20b%2Fc%3Fd"
    assert seen.query == b""  # "?" did not start a query string


@pytest.mark.parametrize("retry_after", ["3", "date"])
async def test_429_with_retry_after_is_honoured(
    target: Target,
    board: Switchboard,
    runtime: ConnectorRuntime,
    recorder: EventRecorder,
    skip_clock: SkipClock,
    retry_after: str,
) -> None:
    if retry_after == "date":
        when = skip_clock.now() + timedelta(seconds=30)
        header = email.utils.format_datetime(when, usegmt=True)
    else:
        header = retry_after
    board.script(
        "/things",
        [
            Reply(
                429,
                {"status": "error", "message": "You have reached your ten_secondly_rolling limit."},
                headers={"Retry-After": header},
            )
        ],
    )
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        response = await conn.request("POST", "/things", json={"a": 1}, operation="create_thing")
    assert response.status_code == 200
    assert board.hits("/things") == 2  # a 429 proves the create never happened: retried
    [retry] = [e for e in recorder.logs if e.status == "retry"]
    delay = retry.details["delay_s"]
    if retry_after == "date":
        assert 28.0 <= delay <= 31.0
    else:
        assert delay == 3.0
    assert retry.level == "warn" and retry.details["attempt"] == 1
    assert [c.status_code for c in recorder.api_calls] == [429, 200]
    assert recorder.api_calls[0].error_category == "RATE_LIMIT"


@pytest.mark.parametrize(
    ("headers", "expected_pause"),
    [({}, 1.0), ({"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}, 10.0)],
)
async def test_429_without_retry_after_pauses_for_the_window(
    target: Target,
    board: Switchboard,
    runtime: ConnectorRuntime,
    recorder: EventRecorder,
    headers: dict[str, str],
    expected_pause: float,
) -> None:
    board.script("/things", [Reply(429, {"message": "slow down"}, headers=headers)])
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        await conn.request("GET", "/things", operation="list_things")
        assert conn.bucket().delay() <= 0  # the pause is over once the retry went out
    [retry] = [e for e in recorder.logs if e.status == "retry"]
    assert retry.details["delay_s"] == expected_pause


async def test_429_asking_past_the_deadline_fails_now(
    target: Target,
    board: Switchboard,
    runtime: ConnectorRuntime,
    skip_clock: SkipClock,
    recorder: EventRecorder,
) -> None:
    board.script(
        "/things", [Reply(429, {"message": "daily limit"}, headers={"Retry-After": "120"})]
    )
    policy = RetryPolicy(max_attempts=5, base_delay=0.01, deadline=60.0)
    async with make_connector(
        runtime, target.base_url, transport=target.transport, retry=policy
    ) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("GET", "/things", operation="list_things")
    assert info.value.category is ErrorCategory.RATE_LIMIT and info.value.status == 429
    assert info.value.retry_after == 120.0
    assert board.hits("/things") == 1 and skip_clock.sleeps == []
    [failure] = [e for e in recorder.logs if e.status == "failure"]
    assert "deadline" in failure.details["reason"]


async def test_5xx_burst_then_success(
    target: Target, board: Switchboard, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    board.script("/items", [Reply(503), Reply(502), Reply(500, {"message": "boom"})])
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        response = await conn.request("GET", "/items", operation="list_items")
    assert response.status_code == 200
    calls = recorder.api_calls
    assert [c.status_code for c in calls] == [503, 502, 500, 200]
    assert [c.success for c in calls] == [False, False, False, True]
    assert all(c.endpoint == "/items" and c.operation == "list_items" for c in calls)
    assert calls[2].error_category == "SERVER" and "boom" in (calls[2].error_message or "")
    retries = [e for e in recorder.logs if e.status == "retry"]
    assert [r.details["attempt"] for r in retries] == [1, 2, 3]
    assert all(0 <= r.details["delay_s"] <= 0.05 for r in retries)


async def test_5xx_until_attempts_run_out(
    target: Target, board: Switchboard, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    board.script("/items", [Reply(503, {"message": "maintenance"})] * 10)
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("GET", "/items", operation="list_items")
    error = info.value
    assert (error.category, error.status, error.retryable) == (ErrorCategory.SERVER, 503, True)
    assert str(error) == "demo list_items: HTTP 503 SERVER: maintenance"
    assert board.hits("/items") == FAST_RETRY.max_attempts
    [failure] = [e for e in recorder.logs if e.status == "failure"]
    assert failure.level == "error" and failure.details["attempts"] == 4
    assert failure.source == "integration" and failure.operation == "list_items"


async def test_create_is_not_repeated_after_a_5xx(
    target: Target, board: Switchboard, runtime: ConnectorRuntime
) -> None:
    board.script("/contacts", [Reply(502), Reply(502)])
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("POST", "/contacts", json={"email": "a@b.c"}, operation="create")
        assert board.hits("/contacts") == 1
        assert info.value.status == 502
        # An upsert says it is safe to repeat.
        await conn.request("POST", "/contacts", json={}, operation="upsert", idempotent=True)
    assert board.hits("/contacts") == 3


async def test_timeout_really_cancels(
    target: Target, board: Switchboard, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    board.script("/slow", [Slow(30), Slow(30)])
    policy = RetryPolicy(max_attempts=2, base_delay=0.0, deadline=60.0)
    timeouts = Timeouts(connect=1.0, read=30.0, total=0.2)
    async with make_connector(
        runtime, target.base_url, transport=target.transport, retry=policy, timeouts=timeouts
    ) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("GET", "/slow", operation="slow_read")
    assert info.value.category is ErrorCategory.TIMEOUT and info.value.retryable
    assert board.hits("/slow") == 2
    assert [c.error_category for c in recorder.api_calls] == ["TIMEOUT", "TIMEOUT"]
    if target.kind == "asgi":
        assert board.cancelled == ["/slow", "/slow"]  # the handler itself was cancelled
    else:
        for _ in range(500):  # the server notices the closed connections
            if len(board.disconnected) == 2:
                break
            await asyncio.sleep(0.01)
        assert board.disconnected == ["/slow", "/slow"]


async def test_create_is_not_repeated_after_a_timeout(
    target: Target, board: Switchboard, runtime: ConnectorRuntime
) -> None:
    board.script("/orders", [Slow(30)])
    timeouts = Timeouts(connect=1.0, read=30.0, total=0.2)
    async with make_connector(
        runtime, target.base_url, transport=target.transport, timeouts=timeouts
    ) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("POST", "/orders", json={"n": 1}, operation="create_order")
    assert info.value.category is ErrorCategory.TIMEOUT
    assert board.hits("/orders") == 1


async def test_html_error_page(
    target: Target, board: Switchboard, runtime: ConnectorRuntime
) -> None:
    page = (
        "<html><head><title>502 Bad Gateway</title></head>"
        "<body><center><h1>502 Bad Gateway</h1></center><hr>nginx</body></html>"
    )
    board.script("/items", [Reply(502, page, content_type="text/html")] * 4)
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("GET", "/items", operation="list_items")
    assert info.value.message == "502 Bad Gateway"
    assert info.value.category is ErrorCategory.SERVER


async def test_truncated_json_error_body(
    target: Target, board: Switchboard, runtime: ConnectorRuntime
) -> None:
    body = '{"status":"error","message":"Something \\"broke\\"","correlationId":"abc-'
    board.script("/items", [Reply(400, body)])
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("GET", "/items", operation="list_items")
    error = info.value
    assert (error.category, error.retryable, error.message) == (
        ErrorCategory.VALIDATION,
        False,
        'Something "broke"',
    )
    assert error.details["malformed_json"] is True
    assert board.hits("/items") == 1  # a 400 is not retried


async def test_truncated_json_success_body_is_retried_when_json_is_expected(
    target: Target, board: Switchboard, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    board.script("/items", [Reply(200, '{"results": [{"id": "1"}, {"id"')])
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        response = await conn.request("GET", "/items", operation="list_items", expect_json=True)
    assert response.json()["ok"] is True
    assert [c.success for c in recorder.api_calls] == [False, True]
    assert "malformed JSON" in (recorder.api_calls[0].error_message or "")


async def test_no_secret_reaches_any_event_or_error(
    target: Target, board: Switchboard, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    # The server echoes credentials back in error bodies, as careless services do.
    board.script(
        "/leaky",
        [
            Reply(
                500, f"upstream rejected Authorization: Bearer {TOKEN}", content_type="text/plain"
            ),
            Reply(
                502, f"<html><title>bad key {SIGNING_KEY}</title></html>", content_type="text/html"
            ),
            Reply(
                503,
                {"message": f"token={TOKEN}", "api_key": SIGNING_KEY, "context": {"token": TOKEN}},
            ),
            Reply(500, {"Message": f"signature {SIGNING_KEY} rejected for {TOKEN}"}),
        ],
    )
    errors: list[IntegrationError] = []
    async with make_connector(
        runtime, target.base_url, transport=target.transport, signing=True
    ) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("GET", "/leaky", operation="leak")
        errors.append(info.value)
    wrong = "wrong-token-1234567890"
    async with make_connector(
        runtime, target.base_url, transport=target.transport, token=wrong
    ) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("GET", "/x", operation="bad_auth")
        errors.append(info.value)
        assert info.value.category is ErrorCategory.AUTHENTICATION and info.value.status == 401
        health = await conn.health()
    assert health.status == "down" and "AUTHENTICATION" in health.message
    text = (
        all_text(recorder)
        + repr(health)
        + "".join(f"{e}{e!r}{e.to_dict()}{e.details}" for e in errors)
    )
    assert len(recorder.api_calls) == 4 + 1 + 1
    for secret in (TOKEN, SIGNING_KEY, wrong):
        assert secret not in text
    assert "***" in text


async def test_query_signature_covers_the_bytes_sent(
    target: Target, board: Switchboard, runtime: ConnectorRuntime
) -> None:
    board.script("/signed/Products/2", [Reply(503)])
    params = {"productCode": "A B&C/é", "modifiedSince": "2024-01-01T00:00:00"}
    async with make_connector(
        runtime, target.base_url, transport=target.transport, signing=True
    ) as conn:
        response = await conn.request(
            "GET",
            "/signed/Products/{page}",
            path_params={"page": 2},
            params=params,
            operation="list_products",
        )
    assert response.status_code == 200
    assert board.hits("/signed/Products/2") == 2  # the retry was signed again, correctly


async def test_remaining_header_limits_the_bucket(
    target: Target, board: Switchboard, runtime: ConnectorRuntime, skip_clock: SkipClock
) -> None:
    window = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    board.script(
        "/crm",
        [
            Reply(headers={"X-HubSpot-RateLimit-Remaining": "1", **window}),
            Reply(headers={"X-HubSpot-RateLimit-Remaining": "0", **window}),
        ],
    )
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        await conn.request("GET", "/crm", operation="a")
        await conn.request("GET", "/crm", operation="b")
        assert skip_clock.sleeps == []
        assert 9.0 < conn.bucket().delay() <= 10.0  # the service has no calls left
        await conn.request("GET", "/crm", operation="c")
    assert len(skip_clock.sleeps) == 1 and 9.0 < skip_clock.sleeps[0] <= 10.0
    assert board.hits("/crm") == 3


async def test_breaker_opens_fails_fast_and_recovers(
    target: Target,
    board: Switchboard,
    runtime: ConnectorRuntime,
    recorder: EventRecorder,
    skip_clock: SkipClock,
) -> None:
    board.script("/items", [Reply(503)] * 3)
    settings = BreakerSettings(failure_threshold=3, cooldown=30.0, success_threshold=2)
    once = RetryPolicy(max_attempts=1)
    async with make_connector(
        runtime, target.base_url, transport=target.transport, breaker=settings, retry=once
    ) as conn:
        for _ in range(3):
            with pytest.raises(IntegrationError):
                await conn.request("GET", "/items", operation="list")
        with pytest.raises(CircuitOpenError) as info:
            await conn.request("GET", "/items", operation="list")
        error = info.value
        assert error.category is ErrorCategory.SERVER and error.retryable
        assert "breaker open until" in error.message and not error.request_sent
        assert board.hits("/items") == 3  # failed fast: nothing sent
        [state] = runtime.breakers.states()
        assert (state.service, state.account, state.state, state.failures) == (
            "demo",
            "teelixir",
            "open",
            3,
        )
        assert state.next_probe_at is not None and state.opened_at is not None
        assert state.next_probe_at - state.opened_at == timedelta(seconds=30)
        health = await conn.health()
        assert health.status == "down" and health.breaker == "open"
        assert "circuit breaker open" in health.message
        skip_clock.offset += 30.0
        await conn.request("GET", "/items", operation="list")
        assert runtime.breakers.states()[0].state == "half_open"
        await conn.request("GET", "/items", operation="list")
        assert runtime.breakers.states()[0].state == "closed"
    transitions = [e.status for e in recorder.logs if (e.status or "").startswith("breaker_")]
    assert transitions == ["breaker_open", "breaker_half_open", "breaker_closed"]
    opened = next(e for e in recorder.logs if e.status == "breaker_open")
    assert opened.source == "integration" and opened.level == "error"


async def test_4xx_and_429_never_open_the_breaker(
    target: Target, board: Switchboard, runtime: ConnectorRuntime
) -> None:
    board.script("/items", [Reply(404), Reply(409), Reply(429), Reply(422)] * 3)
    settings = BreakerSettings(failure_threshold=1)
    once = RetryPolicy(max_attempts=1)
    async with make_connector(
        runtime, target.base_url, transport=target.transport, breaker=settings, retry=once
    ) as conn:
        for _ in range(12):
            with pytest.raises(IntegrationError) as info:
                await conn.request("GET", "/items", operation="get")
            assert not isinstance(info.value, CircuitOpenError)
        assert conn.breaker.state == "closed"


async def test_health_statuses(
    target: Target, board: Switchboard, runtime: ConnectorRuntime, skip_clock: SkipClock
) -> None:
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        healthy = await conn.health()
        assert healthy.status == "healthy" and healthy.ok
        assert healthy.details["answer"] == {"ok": True, "path": "/probe"}
        assert healthy.breaker == "closed" and healthy.latency_ms is not None

        board.script("/probe", [Reply(429, headers={"Retry-After": "1"})])
        limited = await conn.health()
        assert limited.status == "degraded" and "rate limited" in limited.message

        board.script("/probe", [Reply(503)])
        flaky = await conn.health()
        assert flaky.status == "degraded" and "after 1 failed attempts" in flaky.message

        board.script("/probe", [Reply(404, {"message": "no such portal"})])
        down = await conn.health()
        assert down.status == "down"
        assert down.message == "demo health_probe: HTTP 404 NOT_FOUND: no such portal"
        assert down.details["error"]["category"] == "NOT_FOUND"
        assert down.details["error"]["status"] == 404

        board.script("/probe", [Reply(429, headers={"Retry-After": "600"})])
        exhausted = await conn.health()
        assert exhausted.status == "degraded"
        assert exhausted.details["error"]["category"] == "RATE_LIMIT"

    slow = make_connector(
        runtime,
        target.base_url,
        transport=target.transport,
        health=HealthSettings(degraded_after_ms=0.0),
        account="another-portal",
    )
    async with slow:
        result = await slow.health()
    assert result.status == "degraded" and "slowly" in result.message


async def test_broken_connections(
    breaking_server: BreakingServer, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    async with make_connector(runtime, breaking_server.url) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("GET", "/stock", operation="list_stock")
        assert info.value.category is ErrorCategory.NETWORK and info.value.request_sent
        assert len(breaking_server.connections) == FAST_RETRY.max_attempts

        breaking_server.connections.clear()
        with pytest.raises(IntegrationError):
            await conn.request("POST", "/orders", json={}, operation="create_order")
        assert len(breaking_server.connections) == 1  # it may have been created: not repeated

        breaking_server.connections.clear()
        with pytest.raises(IntegrationError):
            await conn.request("POST", "/orders", json={}, operation="upsert", idempotent=True)
        assert len(breaking_server.connections) == FAST_RETRY.max_attempts
    assert all(c.error_category == "NETWORK" and c.status_code is None for c in recorder.api_calls)


async def test_refused_connection_is_retried_even_for_a_create(
    refused_url: str, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    async with make_connector(runtime, refused_url) as conn:
        with pytest.raises(IntegrationError) as info:
            await conn.request("POST", "/orders", json={}, operation="create_order")
    assert info.value.category is ErrorCategory.NETWORK and not info.value.request_sent
    assert len(recorder.api_calls) == FAST_RETRY.max_attempts
    [failure] = [e for e in recorder.logs if e.status == "failure"]
    assert failure.details["attempts"] == FAST_RETRY.max_attempts


async def test_events_are_only_api_calls_and_log_events(
    target: Target, board: Switchboard, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    board.script("/items", [Reply(503)])
    async with make_connector(runtime, target.base_url, transport=target.transport) as conn:
        await conn.request("GET", "/items", operation="list")
    assert all(isinstance(e, ApiCall | LogEvent) for e in recorder.events)
    assert len(recorder.events) == 3
