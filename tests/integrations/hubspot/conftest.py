"""Fixtures for the HubSpot connector tests: the HubSpot sandbox in-process, on a virtual
clock shared by the connector and the sandbox (see ``hubspot_connector_helpers.Rig``).

The connector's runtime is derived from the suite's ``runtime`` fixture: it publishes to
the same telemetry hub (so every event reaches the session database that
``test_zz_no_secrets.py`` searches, and the ``recorder``), but runs on a ``FakeClock``.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hubspot_connector_helpers import Rig

from masterops.integrations.base import ConnectorRuntime, FakeClock
from masterops.integrations.hubspot import HubSpotConnector
from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.hubspot import build_hubspot


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall=datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
async def rig(runtime: ConnectorRuntime, clock: FakeClock) -> AsyncIterator[Rig]:
    accounts = sandbox_accounts(0)
    sandbox, harness = build_hubspot(accounts, clock=clock.monotonic, now=clock.now)
    derived = ConnectorRuntime(hub=runtime.hub, clock=clock, rng=random.Random(7))
    made = Rig(sandbox, harness, accounts, clock, derived)
    yield made
    for conn in made.connectors:
        await conn.aclose()
    for client in made.clients:
        await client.aclose()
    await sandbox.aclose()


@pytest.fixture
def hubspot(rig: Rig) -> HubSpotConnector:
    """The connector of the ``teelixir`` portal."""
    return rig.connector()
