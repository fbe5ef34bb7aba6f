"""Fixtures for the Unleashed connector tests: a small seeded sandbox on a fixed clock and
connectors built on the lead's ``runtime`` fixture (telemetry to the session database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ulconn_helpers import (
    BASE_URL,
    BUSINESS,
    FAST_RETRY,
    ROOMY_LIMITS,
    SEED,
    MovableClock,
    UlEnv,
)

from masterops.integrations.base import ConnectorRuntime
from masterops.integrations.unleashed import UnleashedConnector
from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.unleashed import build_unleashed


@pytest.fixture
def env(runtime: ConnectorRuntime) -> UlEnv:
    accounts = sandbox_accounts(SEED)
    clock = MovableClock()
    sandbox, harness = build_unleashed(accounts, seed=SEED, volume=40, now=clock)
    account = accounts[BUSINESS]

    def connect(
        *,
        api_key: str = account.unleashed_api_key,
        api_id: str = account.unleashed_api_id,
        transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> UnleashedConnector:
        kwargs.setdefault("retry", FAST_RETRY)
        kwargs.setdefault("limits", ROOMY_LIMITS)
        return UnleashedConnector(
            business_id=BUSINESS,
            runtime=runtime,
            api_id=api_id,
            api_key=api_key,
            base_url=BASE_URL,
            transport=transport or SandboxTransport(app=harness),
            **kwargs,
        )

    return UlEnv(sandbox, harness, clock, account, connect)


@pytest.fixture
async def ul(env: UlEnv) -> AsyncIterator[UnleashedConnector]:
    async with env.connect() as connector:
        yield connector
