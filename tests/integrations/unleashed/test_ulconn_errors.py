"""What goes wrong: bad credentials, server faults and bursts, answers of the wrong shape,
and that no key or signature ever reaches an error or an event."""

from __future__ import annotations

import json
import math

import httpx
import pytest
from ulconn_helpers import BUSINESS, PATIENT_BREAKER, RecordingTransport, UlEnv

from masterops.integrations.base import ErrorCategory, IntegrationError, RetryPolicy
from masterops.integrations.unleashed import PRODUCTS, sign
from masterops.observability.events import EventRecorder
from masterops_sandbox.harness import SandboxTransport


def _assert_no_secret(env: UlEnv, recorder: EventRecorder, *texts: str) -> None:
    key = env.account.unleashed_api_key
    blob = json.dumps([repr(e) for e in recorder.events]) + "".join(texts)
    assert key not in blob


async def test_every_request_carries_the_signature_of_its_own_query(env: UlEnv) -> None:
    recording = RecordingTransport(SandboxTransport(app=env.harness))
    async with env.connect(transport=recording, client_type="MasterOps/Ops") as ul:
        [p async for p in ul.iterate_products(page_size=15, product_code="TLX ")]
        await ul.health()
    key = env.account.unleashed_api_key
    assert len(recording.requests) >= 2
    for request in recording.requests:
        assert request.headers["api-auth-id"] == env.account.unleashed_api_id
        assert request.headers["api-auth-signature"] == sign(key, request.url.query)
        assert request.headers["accept"] == "application/json"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["client-type"] == "masterops/ops"
        assert key not in str(request.url) and key not in str(dict(request.headers))
    assert recording.requests[0].url.query.startswith(b"pageSize=15&productCode=TLX+")
    assert recording.requests[-1].url.query == b""  # the probe signs the empty string


async def test_a_wrong_key_is_refused_with_403_and_no_secret(
    env: UlEnv, recorder: EventRecorder
) -> None:
    wrong = "0" * 64
    async with env.connect(api_key=wrong) as ul:
        with pytest.raises(IntegrationError) as caught:
            await ul.page(PRODUCTS, params={"productCode": "A B"})
        health = await ul.health()
    error = caught.value
    assert error.category in (ErrorCategory.AUTHORIZATION, ErrorCategory.AUTHENTICATION)
    assert error.status == 403 and not error.retryable
    assert "signature" in error.message.lower()
    assert health.status == "down" and health.details["error"]["status"] == 403
    assert env.harness.call_count() == 2  # the call and the probe: neither retried
    texts = (str(error), json.dumps(error.to_dict()), json.dumps(health.to_dict()))
    _assert_no_secret(env, recorder, *texts)
    for text in texts:
        assert wrong not in text
    failures = [e for e in recorder.logs if e.status == "failure"]
    assert failures and all(e.details["error"]["status"] == 403 for e in failures)


async def test_an_unknown_api_id_is_refused(env: UlEnv, recorder: EventRecorder) -> None:
    async with env.connect(api_id="00000000-0000-0000-0000-000000000000") as ul:
        with pytest.raises(IntegrationError) as caught:
            await ul.get_warehouse("5f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0")
    assert caught.value.category is ErrorCategory.AUTHORIZATION
    assert "api-auth-id" in caught.value.message
    _assert_no_secret(env, recorder, str(caught.value))


async def test_5xx_bursts_are_retried_for_reads(env: UlEnv) -> None:
    env.harness.faults.configure(rate_5xx=0.4, seed=11)
    async with env.connect(breaker=PATIENT_BREAKER) as ul:
        products = [p async for p in ul.iterate_products(page_size=4)]
    expected = len(env.sandbox.products(BUSINESS, include_obsolete=False))
    assert len(products) == expected
    injected = env.harness.faults.injected["5xx"]
    assert injected >= 2
    pages = math.ceil(expected / 4)
    assert env.harness.call_count("/Products/{page:int}") == pages
    assert env.harness.call_count() == pages + injected


async def test_429_bursts_are_retried_for_reads(env: UlEnv, recorder: EventRecorder) -> None:
    env.harness.faults.configure(rate_429=0.4, retry_after=0.01, seed=6)
    async with env.connect() as ul:
        customers = [c async for c in ul.iterate_customers(page_size=5)]
    assert len(customers) == len(env.sandbox.customers(BUSINESS, include_obsolete=False))
    assert env.harness.faults.injected["429"] >= 1
    retries = [e for e in recorder.logs if e.status == "retry"]
    assert retries and all(e.details["error"]["category"] == "RATE_LIMIT" for e in retries)


async def test_html_pages_and_cut_bodies_are_retried(env: UlEnv) -> None:
    env.harness.faults.configure(rate_html=0.3, rate_malformed=0.3, seed=2)
    async with env.connect(breaker=PATIENT_BREAKER) as ul:
        rows = [s async for s in ul.iterate_stock(page_size=9)]
    assert len(rows) == len(env.sandbox.stock(BUSINESS))
    assert sum(env.harness.faults.injected.values()) >= 1


async def test_a_persistent_outage_gives_up_with_a_server_error(env: UlEnv) -> None:
    env.harness.faults.configure(rate_5xx=1.0, status_5xx=502)
    async with env.connect(breaker=PATIENT_BREAKER) as ul:
        with pytest.raises(IntegrationError) as caught:
            await ul.get_warehouse(env.sandbox.warehouses(BUSINESS)[0].guid)
        health = await ul.health()
    assert caught.value.category is ErrorCategory.SERVER and caught.value.status == 502
    assert env.harness.call_count() >= 5 + 1  # FAST_RETRY's 5 attempts, then the probe
    assert health.status == "down"


def _answering(body: object, status: int = 200) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(status, json=body))


async def test_an_answer_of_the_wrong_shape_is_an_unknown_error(env: UlEnv) -> None:
    async with env.connect(transport=_answering({"Items": "nope"})) as ul:
        with pytest.raises(IntegrationError) as caught:
            await ul.page(PRODUCTS)
        health = await ul.health()
    assert caught.value.category is ErrorCategory.UNKNOWN and not caught.value.retryable
    assert "unexpected answer shape" in caught.value.message
    assert health.status == "down"  # a probe whose answer is not a warehouse list
    async with env.connect(transport=_answering({"Guid": "x"})) as ul:
        with pytest.raises(IntegrationError, match="unexpected answer shape"):
            await ul.get_product("5f0e1d2c-3b4a-4958-8776-a5b4c3d2e1f0")


async def test_a_page_that_lies_about_its_number_cannot_loop_forever(env: UlEnv) -> None:
    item = env.sandbox.to_json(env.sandbox.products(BUSINESS)[0])
    body = {
        "Pagination": {"NumberOfItems": 3, "PageSize": 1, "PageNumber": 1, "NumberOfPages": 3},
        "Items": [item],
    }
    transport = RecordingTransport(_answering(body))
    async with env.connect(transport=transport) as ul:
        products = [p async for p in ul.iterate_products(page_size=1)]
    assert len(products) == 3
    assert [r.url.path for r in transport.requests] == ["/Products/1", "/Products/2", "/Products/3"]


async def test_server_errors_on_writes_are_reported(env: UlEnv) -> None:
    transport = RecordingTransport(SandboxTransport(app=env.harness), fail_first=100, status=500)
    async with env.connect(transport=transport, breaker=PATIENT_BREAKER) as ul:
        with pytest.raises(IntegrationError) as caught:
            await ul.complete_sales_order(env.sandbox.orders(BUSINESS)[0].guid)
    assert caught.value.category is ErrorCategory.SERVER
    assert len(transport.requests) == 5  # idempotent: retried up to the policy's attempts


async def test_an_injected_429_past_the_retries_is_a_passing_limit_not_the_quota(
    env: UlEnv,
) -> None:
    # The injected 429 is the service's own refusal, with Retry-After instead of the
    # quota block's X-Quota-Reset: retried, then a retryable RATE_LIMIT in its words.
    env.harness.faults.configure(rate_429=1.0, retry_after=0.01)
    warehouse = env.sandbox.warehouses(BUSINESS)[0].guid
    async with env.connect(retry=RetryPolicy(max_attempts=2, base_delay=0.001)) as ul:
        with pytest.raises(IntegrationError) as caught:
            await ul.get_warehouse(warehouse)
    error = caught.value
    assert (error.category, error.status, error.retryable) == (ErrorCategory.RATE_LIMIT, 429, True)
    assert "rate limit was reached" in str(error)
    assert "quota" not in error.details
    assert env.harness.faults.injected["429"] == 2
