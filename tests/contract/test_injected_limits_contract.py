"""Unleashed's and n8n's injected faults as a client nobody here wrote sees them, over HTTP:
urllib3's ``Retry`` (what the official SDKs configure) recovers from injected 429s, whose
``Retry-After`` it parses, and from injected 5xx, as the project's connectors do
(``tests/integrations/unleashed/test_ulconn_errors.py``,
``tests/integrations/n8n/test_n8n_health_faults.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
import urllib3
from hubspot_sdk_fixtures import ServerThread
from urllib3.util.retry import Retry

from masterops.integrations.unleashed import sign
from masterops_sandbox.accounts import n8n_api_key, sandbox_accounts
from masterops_sandbox.harness import ServiceHarness
from masterops_sandbox.n8n import build_n8n
from masterops_sandbox.unleashed import build_unleashed

SEED = 5


@pytest.fixture(name="n8n", scope="module")
def n8n_fixture() -> Iterator[tuple[ServiceHarness, str]]:
    _, harness = build_n8n(n8n_api_key(SEED), seed=SEED)
    yield from _served(harness)


@pytest.fixture(name="unleashed", scope="module")
def unleashed_fixture() -> Iterator[tuple[ServiceHarness, str]]:
    _, harness = build_unleashed(sandbox_accounts(SEED), seed=SEED, volume=30)
    yield from _served(harness)


def _served(harness: ServiceHarness) -> Iterator[tuple[ServiceHarness, str]]:
    server = ServerThread(harness)
    server.start()
    try:
        yield harness, server.url
    finally:
        server.stop()


def _retrying() -> urllib3.PoolManager:
    retry = Retry(
        total=12,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,
        backoff_factor=0,
        respect_retry_after_header=True,
    )
    return urllib3.PoolManager(retries=retry)


def _n8n_headers() -> dict[str, str]:
    return {"X-N8N-API-KEY": n8n_api_key(SEED)}


def _unleashed_headers() -> dict[str, str]:
    account = sandbox_accounts(SEED)["teelixir"]
    return {
        "api-auth-id": account.unleashed_api_id,
        "api-auth-signature": sign(account.unleashed_api_key, ""),  # no query: sign ""
        "Accept": "application/json",
    }


# (fixture, path, headers, the list in the answer)
SERVICES = [
    pytest.param("n8n", "/api/v1/workflows", _n8n_headers, "data", id="n8n"),
    pytest.param("unleashed", "/Products", _unleashed_headers, "Items", id="unleashed"),
]
FAULTS = [
    pytest.param({"rate_429": 0.5, "retry_after": 0.4, "seed": 3}, "429", id="429"),
    pytest.param({"rate_5xx": 0.5, "seed": 1}, "5xx", id="5xx"),
]


@pytest.mark.parametrize(("service", "path", "headers", "items"), SERVICES)
@pytest.mark.parametrize(("switches", "fault"), FAULTS)
def test_urllib3_retry_recovers_from_injected_faults(
    request: pytest.FixtureRequest,
    service: str,
    path: str,
    headers: Callable[[], dict[str, str]],
    items: str,
    switches: dict[str, float],
    fault: str,
) -> None:
    harness, url = request.getfixturevalue(service)
    harness.faults.reset()
    harness.faults.configure(**switches)
    http = _retrying()
    try:
        for _ in range(4):
            answer = http.request("GET", url + path, headers=headers())
            assert answer.status == 200
            assert json.loads(answer.data)[items]
        assert harness.faults.injected.get(fault, 0) >= 1
    finally:
        harness.faults.reset()
