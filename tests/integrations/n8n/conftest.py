"""Fixtures for the n8n connector tests: an in-process n8n sandbox and connectors built on
the lead's ``runtime`` fixture (telemetry to the session database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from n8n_conn_helpers import API_KEY, BASE_URL, FAST_RETRY, N8nEnv
from starlette.types import ASGIApp

from masterops.integrations.base import BreakerSettings, ConnectorRuntime, RetryPolicy
from masterops.integrations.n8n import N8nConnector
from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.n8n import build_n8n


def _env(runtime: ConnectorRuntime, *, seed_data: bool) -> N8nEnv:
    sandbox, harness = build_n8n(API_KEY, seed=1, seed_data=seed_data)

    def connect(
        *,
        api_key: str = API_KEY,
        base_url: str = BASE_URL,
        app: ASGIApp | None = None,
        retry: RetryPolicy = FAST_RETRY,
        breaker: BreakerSettings | None = None,
        **kwargs: Any,
    ) -> N8nConnector:
        return N8nConnector(
            business_id="teelixir",
            runtime=runtime,
            base_url=base_url,
            api_key=api_key,
            transport=SandboxTransport(app=app or harness),
            retry=retry,
            breaker=breaker,
            **kwargs,
        )

    return N8nEnv(sandbox, harness, connect)


@pytest.fixture
def env(runtime: ConnectorRuntime) -> N8nEnv:
    """The seeded sandbox: 18 workflows, 8 tags, 600 executions over the last week."""
    return _env(runtime, seed_data=True)


@pytest.fixture
def empty_env(runtime: ConnectorRuntime) -> N8nEnv:
    """A sandbox with nothing in it, for exact page counts."""
    return _env(runtime, seed_data=False)


@pytest.fixture
async def n8n(env: N8nEnv) -> AsyncIterator[N8nConnector]:
    async with env.connect() as connector:
        yield connector


@pytest.fixture
async def empty_n8n(empty_env: N8nEnv) -> AsyncIterator[N8nConnector]:
    async with empty_env.connect() as connector:
        yield connector
