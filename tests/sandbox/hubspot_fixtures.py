"""Fixtures for the HubSpot sandbox tests: a fake clock, a rig and API clients.

Imported explicitly by the test modules because tests/sandbox has no conftest of
its own. The fixture functions carry other names than their fixtures
(``rig_fixture`` provides ``rig``) so that importing them does not clash with
the test parameters that use them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from masterops_sandbox.accounts import SandboxAccount, sandbox_accounts
from masterops_sandbox.harness import SandboxTransport, ServiceHarness
from masterops_sandbox.hubspot import HubSpotSandbox, build_hubspot

BASE_URL = "https://api.hubapi.com"


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


class FakeNow:
    """Wall-clock time that moves only when a test says so."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> None:
        self.value += timedelta(**delta)


@dataclass
class HubSpotRig:
    sandbox: HubSpotSandbox
    harness: ServiceHarness
    accounts: dict[str, SandboxAccount]
    clock: FakeClock
    now: FakeNow
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, business: str = "teelixir", *, token: str | None = None) -> httpx.AsyncClient:
        """An API client for one business (or with an explicit token; "" sends none)."""
        chosen = self.accounts[business].hubspot_token if token is None else token
        headers = {"Authorization": f"Bearer {chosen}"} if chosen else {}
        client = httpx.AsyncClient(
            transport=SandboxTransport(app=self.harness), base_url=BASE_URL, headers=headers
        )
        self.clients.append(client)
        return client


def make_rig(seed: int = 0, **kwargs: Any) -> HubSpotRig:
    accounts = sandbox_accounts(seed)
    clock, now = FakeClock(), FakeNow()
    sandbox, harness = build_hubspot(accounts, seed=seed, clock=clock, now=now, **kwargs)
    return HubSpotRig(sandbox, harness, accounts, clock, now)


@pytest.fixture(name="rig")
async def rig_fixture() -> AsyncIterator[HubSpotRig]:
    made = make_rig()
    yield made
    for client in made.clients:
        await client.aclose()
    await made.sandbox.aclose()


@pytest.fixture(name="api")
def api_fixture(rig: HubSpotRig) -> httpx.AsyncClient:
    """A client for the ``teelixir`` portal (professional: 190 calls per 10 s)."""
    return rig.client("teelixir")


async def create_contact(api: httpx.AsyncClient, email: str, **properties: str) -> str:
    response = await api.post(
        "/crm/v3/objects/contacts", json={"properties": {"email": email, **properties}}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def assert_error(response: httpx.Response, status: int, category: str) -> dict[str, Any]:
    """The response is HubSpot's error body with this status and category."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "error"
    assert body["category"] == category
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["correlationId"], str) and len(body["correlationId"]) == 36
    return body
