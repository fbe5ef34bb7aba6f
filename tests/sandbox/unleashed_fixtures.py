"""Shared fixtures of the Unleashed sandbox tests; test modules import them by name.

Requests are signed here exactly as the facts say a client must: build the
query string once, sign those bytes (without "?") and send the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from masterops_sandbox.accounts import SandboxAccount, sandbox_accounts
from masterops_sandbox.harness import SandboxTransport, ServiceHarness
from masterops_sandbox.unleashed import UnleashedSandbox, build_unleashed

# The fixtures, for ``from unleashed_fixtures import *`` in the test modules (a star
# import, because ruff reads a named import used only as a parameter as unused).
__all__ = ["accounts", "built", "client_for", "clock", "harness", "http", "sandbox", "teelixir"]

BASE_URL = "https://api.unleashedsoftware.com"
FIXED_NOW = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
VOLUME = 120


class Clock:
    """The sandbox's injectable clock, moved by hand."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def signature(api_key: str, query: str) -> str:
    digest = hmac.new(api_key.encode(), query.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def wire_ms(value: str) -> int:
    """The epoch milliseconds inside ``/Date(ms)/``."""
    assert value.startswith("/Date(") and value.endswith(")/"), value
    return int(value[len("/Date(") : -len(")/")])


class UnleashedClient:
    """An API client of one business, signing every request."""

    def __init__(self, http: httpx.AsyncClient, account: SandboxAccount) -> None:
        self.http = http
        self.account = account

    def headers(self, query: str) -> dict[str, str]:
        return {
            "api-auth-id": self.account.unleashed_api_id,
            "api-auth-signature": signature(self.account.unleashed_api_key, query),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "client-type": "masterops/tests",
        }

    @staticmethod
    def query(params: Mapping[str, Any] | None) -> str:
        return urlencode(params or {})

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        query = self.query(params)
        url = f"{path}?{query}" if query else path
        return await self.http.get(url, headers=self.headers(query))

    async def post(
        self, path: str, body: Any, params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        query = self.query(params)
        url = f"{path}?{query}" if query else path
        return await self.http.post(url, json=body, headers=self.headers(query))

    async def all_items(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every item of a list endpoint, page after page."""
        items: list[Any] = []
        page = 1
        while True:
            response = await self.get(f"{path}/{page}", params)
            assert response.status_code == 200, response.text
            data = response.json()
            items.extend(data["Items"])
            if page >= data["Pagination"]["NumberOfPages"]:
                return items
            page += 1


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts() -> dict[str, SandboxAccount]:
    return sandbox_accounts(0)


@pytest.fixture
def built(
    clock: Clock, accounts: dict[str, SandboxAccount]
) -> tuple[UnleashedSandbox, ServiceHarness]:
    return build_unleashed(accounts, seed=0, volume=VOLUME, now=clock)


@pytest.fixture
def sandbox(built: tuple[UnleashedSandbox, ServiceHarness]) -> UnleashedSandbox:
    return built[0]


@pytest.fixture
def harness(built: tuple[UnleashedSandbox, ServiceHarness]) -> ServiceHarness:
    return built[1]


@pytest.fixture
async def http(harness: ServiceHarness) -> AsyncIterator[httpx.AsyncClient]:
    transport = SandboxTransport(app=harness)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def client_for(
    http: httpx.AsyncClient, accounts: dict[str, SandboxAccount]
) -> Callable[[str], UnleashedClient]:
    return lambda business: UnleashedClient(http, accounts[business])


@pytest.fixture
def teelixir(client_for: Callable[[str], UnleashedClient]) -> UnleashedClient:
    return client_for("teelixir")
