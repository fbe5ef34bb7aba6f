"""Injected faults as clients nobody here wrote see them, over HTTP.

An injected 429 must be indistinguishable from the sandbox's own limiter (same body with
its ``policyName``, same headers) and carry ``Retry-After`` in whole seconds, which
urllib3's ``Retry`` (the official SDK's retry configuration) parses; a fractional value
made it raise ``InvalidHeader`` instead of retrying. Both urllib3's ``Retry`` and the
project's connector then recover from injected 429s and 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot_sdk_fixtures import (  # noqa: F401 - fixtures
    ServedHubSpot,
    connector_for,
    served_fixture,
    unique,
)
from urllib3.util.retry import Retry

from masterops.integrations.base import RetryPolicy

LIMITED = "elevate"  # a starter portal the limiter tests may exhaust


@pytest.fixture(name="faults")
def faults_fixture(served: ServedHubSpot) -> Iterator[ServedHubSpot]:
    served.harness.faults.reset()
    yield served
    served.harness.faults.reset()
    served.sandbox.reset_rate_limits()


def _sdk_retry() -> Retry:
    # What an SDK user configures: retry 429 and 5xx on every method, honouring Retry-After.
    return Retry(
        total=12,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,
        backoff_factor=0,
        respect_retry_after_header=True,
    )


def test_injected_429_is_the_limiters_own_answer(faults: ServedHubSpot) -> None:
    sandbox = faults.sandbox
    headers = {"Authorization": f"Bearer {faults.token(LIMITED)}"}
    with httpx.Client(base_url=faults.url, headers=headers) as http:
        sandbox.set_ten_second_limit(LIMITED, 1)
        assert http.get("/crm/v3/objects/contacts").status_code == 200
        real = http.get("/crm/v3/objects/contacts")
        assert real.status_code == 429
        faults.harness.faults.configure(rate_429=1.0)
        injected = http.get("/crm/v3/objects/contacts")
        faults.harness.faults.configure(rate_429=0.0)
    assert injected.status_code == 429

    def without_correlation(response: httpx.Response) -> dict[str, object]:
        body: dict[str, object] = response.json()
        assert isinstance(body.pop("correlationId"), str)
        return body

    assert without_correlation(injected) == without_correlation(real)
    assert injected.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    for name in ("content-type", "x-hubspot-ratelimit-max", "x-hubspot-ratelimit-remaining"):
        assert injected.headers[name] == real.headers[name]
    assert "retry-after" not in injected.headers  # none unless the switch asks for one


@pytest.mark.parametrize(
    ("path", "switches", "policy"),
    [
        ("/crm/v3/objects/contacts/search", {}, "SECONDLY"),
        ("/crm/v3/objects/contacts", {"policy_429": "DAILY"}, "DAILY"),
    ],
)
def test_injected_429_names_the_policy(
    faults: ServedHubSpot, path: str, switches: dict[str, str], policy: str
) -> None:
    faults.harness.faults.configure(rate_429=1.0, retry_after=2.5, **switches)
    headers = {"Authorization": f"Bearer {faults.token()}"}
    with httpx.Client(base_url=faults.url, headers=headers) as http:
        method = "POST" if path.endswith("/search") else "GET"
        response = http.request(method, path, json={} if method == "POST" else None)
    assert response.status_code == 429
    assert response.json()["policyName"] == policy
    assert response.headers["retry-after"] == "3"  # whole seconds, rounded up


def test_urllib3_retry_recovers_from_injected_429s(faults: ServedHubSpot) -> None:
    faults.harness.faults.configure(rate_429=0.5, retry_after=0.4, seed=3)  # sent as "1"
    sdk = faults.sdk(retry=_sdk_retry())
    made = [
        sdk.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={"email": unique("r429") + "@example.com"}, associations=[]
            )
        ).id
        for _ in range(3)
    ]
    assert len(set(made)) == 3
    assert faults.harness.faults.injected.get("429", 0) >= 1


def test_urllib3_retry_recovers_from_injected_5xx(faults: ServedHubSpot) -> None:
    faults.harness.faults.configure(rate_5xx=0.5, status_5xx=503, seed=1)
    sdk = faults.sdk(retry=_sdk_retry())
    pages = [sdk.crm.contacts.basic_api.get_page(limit=5) for _ in range(6)]
    assert len(pages) == 6
    assert faults.harness.faults.injected.get("5xx", 0) >= 1


async def test_connector_recovers_from_injected_429s_and_5xx(faults: ServedHubSpot) -> None:
    faults.harness.faults.configure(rate_429=0.3, rate_5xx=0.3, retry_after=0.2, seed=9)
    connector = connector_for(
        faults,
        retry=RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.05, deadline=60.0),
    )
    try:
        emails = [unique("cf") + "@example.com" for _ in range(4)]
        upserted = await connector.batch_upsert(
            "contacts", [{"email": e} for e in emails], id_property="email"
        )
        assert all(o.ok for o in upserted)
        read = await connector.batch_read("contacts", emails, id_property="email")
        assert all(o.ok for o in read)
        page = await connector.search("contacts", properties=["email"], limit=10)
        assert page.results
    finally:
        await connector.aclose()
    injected = faults.harness.faults.injected
    assert injected.get("429", 0) >= 1 and injected.get("5xx", 0) >= 1
