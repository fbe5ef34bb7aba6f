"""Fixtures for the HubSpot contract tests: the HubSpot sandbox served over HTTP on a
loopback port, and clients nobody here wrote (HubSpot's official Python SDK, whose
generated models check the answers' required fields) or the project's own connector.

Imported explicitly by the test modules (``from hubspot_sdk_fixtures import ...``); the
fixture functions carry other names than their fixtures so that importing them does not
clash with the test parameters that use them.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import hubspot.crm.associations.v4 as sdk_v4
import hubspot.crm.objects as sdk_objects
import pytest
import uvicorn
from hubspot import HubSpot
from urllib3.util.retry import Retry

from masterops.integrations.base import ConnectorRuntime, RetryPolicy
from masterops.integrations.hubspot import HubSpotConnector
from masterops_sandbox.accounts import SandboxAccount, sandbox_accounts
from masterops_sandbox.harness import ServiceHarness
from masterops_sandbox.hubspot import HubSpotSandbox, build_hubspot

BUSINESS = "teelixir"


class ServerThread:
    """An ASGI app served by uvicorn on a free loopback port, in a background thread."""

    def __init__(self, app: Any) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._sock])), daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the HubSpot sandbox did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()


@dataclass
class ServedHubSpot:
    sandbox: HubSpotSandbox
    harness: ServiceHarness
    accounts: dict[str, SandboxAccount]
    url: str

    def token(self, business: str = BUSINESS) -> str:
        return self.accounts[business].hubspot_token

    def sdk(self, business: str = BUSINESS, *, retry: Retry | None = None) -> HubSpot:
        """HubSpot's official client for one portal, pointed at the sandbox, with the
        generated models' checks on (the SDK ships them off): an answer lacking a field
        HubSpot's API description requires fails to deserialize."""
        return HubSpot(
            access_token=self.token(business),
            host=self.url,
            retry=retry,
            client_side_validation=True,
        )


def serve_hubspot(seed: int) -> Iterator[ServedHubSpot]:
    accounts = sandbox_accounts(seed)
    sandbox, harness = build_hubspot(accounts, seed=seed)
    # Contract tests make many calls in a few seconds: the limits are tested on their own.
    for business in accounts:
        sandbox.set_ten_second_limit(business, 100_000)
        sandbox.set_search_limit(business, 10_000)
    server = ServerThread(harness)
    server.start()
    try:
        yield ServedHubSpot(sandbox, harness, accounts, server.url)
    finally:
        server.stop()


@pytest.fixture(name="served", scope="module")
def served_fixture() -> Iterator[ServedHubSpot]:
    """One HubSpot sandbox per test module, over HTTP; tests keep their data apart with
    unique names (``unique``)."""
    yield from serve_hubspot(seed=17)


@pytest.fixture(name="sdk")
def sdk_fixture(served: ServedHubSpot) -> HubSpot:
    served.harness.faults.reset()
    return served.sdk()


def unique(label: str) -> str:
    return f"{label}{uuid.uuid4().hex[:10]}"


class _Raw:
    def __init__(self, body: Any) -> None:
        self.data = json.dumps(body)


def as_sdk_model(body: Any, model: str, package: ModuleType = sdk_objects) -> Any:
    """``body`` read as the SDK's request model ``model`` of ``package`` (the CRM objects
    API unless told): its generated setters refuse a missing required field with
    ``ValueError``, as HubSpot's request descriptions do."""
    config = package.Configuration()
    config.client_side_validation = True
    return package.ApiClient(configuration=config).deserialize(_Raw(body), model)


V4 = sdk_v4


class RecordingTransport(httpx.AsyncBaseTransport):
    """Real HTTP, with every request kept as (method, path, JSON body or None)."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.sent: list[tuple[str, str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raw = request.content
        self.sent.append((request.method, request.url.path, json.loads(raw) if raw else None))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

    def bodies(self, method: str, path_end: str) -> list[Any]:
        return [b for m, p, b in self.sent if m == method and p.endswith(path_end)]


@pytest.fixture(name="wire")
def wire_fixture() -> RecordingTransport:
    return RecordingTransport()


def connector_for(
    served: ServedHubSpot,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> HubSpotConnector:
    """The project's connector for the ``BUSINESS`` portal of ``served``, with fast retries
    unless told otherwise."""
    return HubSpotConnector(
        business_id=BUSINESS,
        runtime=ConnectorRuntime(),
        token=served.token(),
        tier="limit_pack",
        search_per_second=50,
        base_url=served.url,
        transport=transport,
        retry=retry or RetryPolicy(base_delay=0.01, max_delay=0.05),
    )


@pytest.fixture(name="hubspot")
async def connector_fixture(
    served: ServedHubSpot, wire: RecordingTransport
) -> AsyncIterator[HubSpotConnector]:
    """The project's connector for the ``BUSINESS`` portal, over ``wire``."""
    served.harness.faults.reset()
    connector = connector_for(served, transport=wire)
    yield connector
    await connector.aclose()
