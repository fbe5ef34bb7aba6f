"""Health, authentication and fault handling of N8nConnector against the sandbox."""

from __future__ import annotations

import pytest
from n8n_conn_helpers import API_KEY, PATIENT_BREAKER, N8nEnv, noop_node

from masterops.integrations.base import (
    ConnectorRuntime,
    ErrorCategory,
    IntegrationError,
    RetryPolicy,
)
from masterops.integrations.n8n import N8nConnector
from masterops.observability.events import EventRecorder
from masterops_sandbox.accounts import n8n_api_key

WORKFLOWS = "/api/v1/workflows"
READINESS = "/healthz/readiness"
WRONG_KEY = n8n_api_key(2)  # a real-looking key of another seed: searched for in telemetry
MANY_RETRIES = RetryPolicy(max_attempts=12, base_delay=0.001, max_delay=0.002, deadline=30.0)


def everything_said(recorder: EventRecorder, *texts: str) -> str:
    return "\n".join([*texts, *(repr(e) for e in recorder.events)])


# -- health ----------------------------------------------------------------------------


async def test_healthy_needs_readiness_and_an_authenticated_call(
    n8n: N8nConnector, env: N8nEnv
) -> None:
    result = await n8n.health()
    assert result.status == "healthy", result.message
    assert result.details == {"ready": True, "authenticated": True, "workflows_visible": True}
    assert env.harness.call_count(READINESS, "GET") == 1
    assert env.harness.call_count(WORKFLOWS, "GET") == 1


async def test_readiness_503_is_down_because_the_database_is_not_ready(
    n8n: N8nConnector, env: N8nEnv
) -> None:
    env.sandbox.set_ready(False)
    result = await n8n.health()
    assert result.status == "down"
    assert "database is not ready" in result.message
    assert result.details["error"]["status"] == 503
    # Reported at once, not retried, and the API was not called.
    assert env.harness.call_count(READINESS, "GET") == 1
    assert env.harness.call_count(WORKFLOWS, "GET") == 0
    env.sandbox.set_ready(True)
    assert (await n8n.health()).status == "healthy"


async def test_a_wrong_key_is_down_with_authentication_and_no_key_anywhere(
    env: N8nEnv, recorder: EventRecorder
) -> None:
    async with env.connect(api_key=WRONG_KEY) as n8n:
        result = await n8n.health()
        with pytest.raises(IntegrationError) as caught:
            await n8n.get_workflow("abc")
    assert result.status == "down"
    assert result.details["error"]["category"] == "AUTHENTICATION"
    error = caught.value
    assert error.category is ErrorCategory.AUTHENTICATION and error.status == 401
    assert error.message == "unauthorized" and not error.retryable
    assert env.harness.call_count("/api/v1/workflows/{id}", "GET") == 1  # not retried
    text = everything_said(recorder, str(error), repr(error), str(error.to_dict()), str(result))
    assert WRONG_KEY not in text and API_KEY not in text


async def test_a_missing_key_is_authentication(env: N8nEnv, recorder: EventRecorder) -> None:
    async with env.connect(api_key="") as n8n:
        with pytest.raises(IntegrationError) as caught:
            [w async for w in n8n.list_workflows()]
        result = await n8n.health()
    assert caught.value.category is ErrorCategory.AUTHENTICATION
    assert caught.value.message == "'X-N8N-API-KEY' header required"
    assert result.status == "down"
    assert API_KEY not in everything_said(recorder, str(result))


async def test_the_key_travels_only_in_the_header(
    n8n: N8nConnector, recorder: EventRecorder
) -> None:
    await n8n.health()
    [w async for w in n8n.list_workflows(page_size=5)]
    assert recorder.api_calls
    assert {c.endpoint for c in recorder.api_calls} == {READINESS, WORKFLOWS}
    assert API_KEY not in everything_said(recorder)


# -- faults ----------------------------------------------------------------------------


async def test_5xx_bursts_are_retried_for_gets(env: N8nEnv) -> None:
    env.harness.faults.configure(rate_5xx=0.6, status_5xx=503, seed=3)
    async with env.connect(retry=MANY_RETRIES, breaker=PATIENT_BREAKER) as n8n:
        listed = [w async for w in n8n.list_workflows(page_size=5)]
    assert len(listed) == 18
    injected = env.harness.faults.injected["5xx"]
    assert injected > 0
    # Every injected failure was followed by another attempt: 4 pages in the end.
    assert env.harness.call_count(WORKFLOWS, "GET") == 4 + injected


async def test_429_and_html_502_are_retried_for_gets(env: N8nEnv) -> None:
    env.harness.faults.configure(rate_429=0.3, retry_after=0.01, rate_html=0.3, seed=5)
    # ~60 attempts: lift the 20/s bucket so the test stays fast.
    async with env.connect(retry=MANY_RETRIES, breaker=PATIENT_BREAKER, per_second=1000) as n8n:
        listed = [e async for e in n8n.list_executions(page_size=20)]
    assert len(listed) == 599
    assert env.harness.faults.injected.get("429", 0) > 0
    assert env.harness.faults.injected.get("html", 0) > 0


async def test_a_truncated_json_answer_is_retried(env: N8nEnv) -> None:
    env.harness.faults.configure(rate_malformed=0.5, seed=2)
    async with env.connect(retry=MANY_RETRIES, breaker=PATIENT_BREAKER) as n8n:
        listed = [t async for t in n8n.list_tags(page_size=3)]
    assert len(listed) == 8
    assert env.harness.faults.injected.get("malformed", 0) > 0


async def test_a_create_that_reached_the_server_is_not_repeated(empty_env: N8nEnv) -> None:
    empty_env.harness.faults.configure(
        rate_5xx=1.0, status_5xx=502, path_pattern=r"^/api/v1/workflows$"
    )
    async with empty_env.connect(retry=MANY_RETRIES, breaker=PATIENT_BREAKER) as n8n:
        with pytest.raises(IntegrationError) as caught:
            await n8n.create_workflow("once", [noop_node()])
    assert caught.value.category is ErrorCategory.SERVER and caught.value.status == 502
    assert caught.value.retryable  # retryable in itself, but not safe to repeat
    assert empty_env.harness.call_count(WORKFLOWS, "POST") == 1


async def test_a_create_cut_off_mid_answer_is_not_repeated(empty_env: N8nEnv) -> None:
    empty_env.harness.faults.configure(rate_drop=1.0, path_pattern=r"^/api/v1/workflows$")
    async with empty_env.connect(retry=MANY_RETRIES, breaker=PATIENT_BREAKER) as n8n:
        with pytest.raises(IntegrationError) as caught:
            await n8n.create_workflow("once", [noop_node()])
    assert caught.value.category is ErrorCategory.NETWORK
    assert empty_env.harness.call_count(WORKFLOWS, "POST") == 1


async def test_a_create_refused_with_429_is_retried(empty_env: N8nEnv) -> None:
    # A 429 proves nothing was done, so even a create may go again.
    empty_env.harness.faults.configure(
        rate_429=0.5, retry_after=0.01, path_pattern=r"^/api/v1/workflows$", seed=1
    )
    async with empty_env.connect(retry=MANY_RETRIES, breaker=PATIENT_BREAKER) as n8n:
        for i in range(4):
            await n8n.create_workflow(f"wf {i}", [noop_node()])
    assert len(empty_env.sandbox.workflows()) == 4
    assert empty_env.harness.faults.injected["429"] > 0


async def test_a_retry_execution_is_never_repeated(env: N8nEnv) -> None:
    failed = env.sandbox.executions(status="error")[0]
    env.harness.faults.configure(rate_5xx=1.0, path_pattern=r"/retry$")
    async with env.connect(retry=MANY_RETRIES, breaker=PATIENT_BREAKER) as n8n:
        with pytest.raises(IntegrationError) as caught:
            await n8n.retry_execution(failed["id"])
    assert caught.value.category is ErrorCategory.SERVER
    assert env.harness.call_count(f"/api/v1/executions/{failed['id']}/retry", "POST") == 1


async def test_two_businesses_on_one_instance_share_a_breaker(
    env: N8nEnv, runtime: ConnectorRuntime
) -> None:
    a = env.connect(account="http://n8n.sandbox")
    b = N8nConnector(
        business_id="elevate",
        runtime=runtime,
        base_url="http://n8n.sandbox",
        api_key=API_KEY,
        account="http://n8n.sandbox",
    )
    other = env.connect()  # keyed by its business id
    assert a.breaker is b.breaker and a.bucket() is b.bucket()
    assert other.breaker is not a.breaker
    for connector in (a, b, other):
        await connector.aclose()


async def test_an_injected_429_past_the_retries_is_a_retryable_rate_limit(env: N8nEnv) -> None:
    env.harness.faults.configure(rate_429=1.0, retry_after=0.01)
    async with env.connect(retry=RetryPolicy(max_attempts=2, base_delay=0.001)) as n8n:
        with pytest.raises(IntegrationError) as caught:
            await n8n.get_workflow(env.sandbox.workflows()[0]["id"])
    error = caught.value
    assert (error.category, error.status, error.retryable) == (ErrorCategory.RATE_LIMIT, 429, True)
    assert "Too many requests" in str(error)  # n8n's own words, read from its body
    assert env.harness.faults.injected["429"] == 2
