"""Shared pieces of the Unleashed connector tests: a movable clock, fast policies and a
transport that records (or fails) requests before the sandbox sees them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from masterops.integrations.base import BreakerSettings, LimitSpec, RetryPolicy
from masterops.integrations.unleashed import UnleashedConnector
from masterops_sandbox.accounts import SandboxAccount
from masterops_sandbox.harness import ServiceHarness
from masterops_sandbox.unleashed import UnleashedSandbox

BASE_URL = "http://unleashed.sandbox"
BUSINESS = "teelixir"
# Seed 1: the session's no-secrets sweep searches telemetry for the keys of seeds 0..2.
SEED = 1
FAST_RETRY = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.005, deadline=30.0)
# The default bucket (10/s) would make the paging tests wait; these tests are about paging.
ROOMY_LIMITS = {"default": LimitSpec(1000, 0.05)}
# Fault-injection tests fail many attempts in a row: keep the breaker out of their way.
PATIENT_BREAKER = BreakerSettings(failure_threshold=1000)
START = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


class MovableClock:
    """The sandbox's and the quota guard's ``now``: fixed until moved."""

    def __init__(self, start: datetime = START) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **delta: float) -> datetime:
        self.value += timedelta(**delta)
        return self.value


@dataclass
class RecordingTransport(httpx.AsyncBaseTransport):
    """Keeps every request it passes on; answers the first ``fail_first`` with ``status``."""

    inner: httpx.AsyncBaseTransport
    fail_first: int = 0
    status: int = 503
    requests: list[httpx.Request] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.fail_first:
            return httpx.Response(self.status, json={"description": "test outage"}, request=request)
        return await self.inner.handle_async_request(request)


@dataclass
class UlEnv:
    sandbox: UnleashedSandbox
    harness: ServiceHarness
    clock: MovableClock
    account: SandboxAccount
    connect: Callable[..., UnleashedConnector]
