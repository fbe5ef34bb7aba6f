"""Helpers for the HubSpot connector tests: the rig (sandbox, harness, virtual clock,
runtime) and the sandbox's route templates. The fixtures are in ``conftest.py``.

The connector and the sandbox share one virtual clock: the sandbox's rate-limit windows
and dates follow it, so a 10-second pause after a 429, a search limited to 5 calls per
second or a backoff take no real time, and nothing depends on how fast the machine is.
Every call that may wait goes through ``rig.run()`` (or ``rig.collect()``), which moves
virtual time whenever all tasks are blocked.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from masterops.integrations.base import ConnectorRuntime, FakeClock, RetryPolicy
from masterops.integrations.hubspot import HubSpotConnector
from masterops_sandbox.accounts import SandboxAccount
from masterops_sandbox.harness import SandboxTransport, ServiceHarness
from masterops_sandbox.hubspot import HubSpotSandbox

T = TypeVar("T")
BASE_URL = "https://api.hubapi.com"
BUSINESS = "teelixir"  # a professional portal: 190 calls per 10 s
# Sandbox route templates, as the harness's call log names them.
OBJECTS = "/crm/v3/objects/{objectType}"
ONE = "/crm/v3/objects/{objectType}/{objectId}"
BATCH = "/crm/v3/objects/{objectType}/batch/{action}"
BATCH_READ = "/crm/v3/objects/{objectType}/batch/read"
SEARCH = "/crm/v3/objects/{objectType}/search"


@dataclass
class Rig:
    sandbox: HubSpotSandbox
    harness: ServiceHarness
    accounts: dict[str, SandboxAccount]
    clock: FakeClock
    runtime: ConnectorRuntime
    connectors: list[HubSpotConnector] = field(default_factory=list)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def token(self, business: str = BUSINESS) -> str:
        return self.accounts[business].hubspot_token

    def connector(
        self, business: str = BUSINESS, *, token: str | None = None, **kwargs: Any
    ) -> HubSpotConnector:
        account = self.accounts[business]
        kwargs.setdefault("tier", account.hubspot_tier)
        kwargs.setdefault("retry", RetryPolicy(base_delay=0.05, max_delay=1.0))
        conn = HubSpotConnector(
            business_id=business,
            runtime=self.runtime,
            token=account.hubspot_token if token is None else token,
            base_url=BASE_URL,
            transport=SandboxTransport(app=self.harness),
            **kwargs,
        )
        self.connectors.append(conn)
        return conn

    def client(self, business: str = BUSINESS) -> httpx.AsyncClient:
        """A raw API client for the portal, to use up its limits behind the connector's back."""
        client = httpx.AsyncClient(
            transport=SandboxTransport(app=self.harness),
            base_url=BASE_URL,
            headers={"Authorization": f"Bearer {self.token(business)}"},
        )
        self.clients.append(client)
        return client

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Await, jumping virtual time whenever everything waits on the clock."""
        return await self.clock.run(awaitable)

    async def collect(self, items: AsyncIterable[T]) -> list[T]:
        async def gather() -> list[T]:
            return [item async for item in items]

        return await self.clock.run(gather())
