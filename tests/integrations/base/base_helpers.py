"""Helpers shared by the integration-core tests: a demo connector, test clocks, auth."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Generator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from base_switchboard import SIGNING_KEY, TOKEN

from masterops.integrations.base import (
    BaseConnector,
    BreakerSettings,
    ConnectorRuntime,
    LimitSpec,
    RetryPolicy,
    Timeouts,
)


class SkipClock:
    """Real time for attempts (sockets need it) but sleeps are skipped: the clock jumps
    forward instead, so a Retry-After of 30 s costs nothing and is still honoured."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += max(0.0, seconds)
        await asyncio.sleep(0)

    def timeout(self, seconds: float | None) -> AbstractAsyncContextManager[object]:
        return asyncio.timeout(seconds)


class BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class SigningAuth(BearerAuth):
    """Like Unleashed: an HMAC of the exact query bytes that are sent."""

    def __init__(self, token: str, key: str) -> None:
        super().__init__(token)
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        digest = hmac.new(self.key.encode(), request.url.query, hashlib.sha256).digest()
        request.headers["api-auth-signature"] = base64.b64encode(digest).decode()
        yield from super().auth_flow(request)


class DemoConnector(BaseConnector):
    service = "demo"
    default_limits = {"default": LimitSpec(1000, 1.0), "search": LimitSpec(5, 1.0)}

    async def probe(self) -> dict[str, Any]:
        response = await self.request("GET", "/probe", operation="health_probe")
        return {"answer": response.json()}


FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, deadline=60.0)


def make_connector(
    runtime: ConnectorRuntime,
    base_url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    token: str = TOKEN,
    retry: RetryPolicy = FAST_RETRY,
    timeouts: Timeouts | None = None,
    breaker: BreakerSettings | None = None,
    signing: bool = False,
    **kwargs: Any,
) -> DemoConnector:
    auth = SigningAuth(token, SIGNING_KEY) if signing else BearerAuth(token)
    return DemoConnector(
        business_id="teelixir",
        runtime=runtime,
        base_url=base_url,
        auth=auth,
        transport=transport,
        retry=retry,
        timeouts=timeouts or Timeouts(connect=2.0, read=5.0, total=5.0),
        breaker=breaker or BreakerSettings(failure_threshold=50),
        secrets=[token, SIGNING_KEY],
        **kwargs,
    )


@dataclass
class Target:
    """Where the switchboard is reachable: in-process or over loopback."""

    kind: str
    base_url: str
    transport: httpx.AsyncBaseTransport | None


@dataclass
class BreakingServer:
    """A raw TCP server that reads a request, then breaks the connection."""

    url: str
    connections: list[int]
