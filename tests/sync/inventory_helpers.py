"""The inventory sync's test rig: the Unleashed and HubSpot sandboxes in-process, with
connectors to them on one runtime whose events are recorded, and readers of what the
sync stored. The other syncs' rigs and the order intake's (tests/ingest) build on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, func, select

from masterops.db.tables import products, stock_levels, sync_runs, sync_state
from masterops.integrations.base import ConnectorRuntime, LimitSpec, RetryPolicy
from masterops.integrations.hubspot import HubSpotConnector
from masterops.integrations.unleashed import UnleashedConnector
from masterops.observability.events import EventRecorder
from masterops_sandbox.accounts import SandboxAccount, sandbox_accounts
from masterops_sandbox.harness import SandboxTransport, ServiceHarness
from masterops_sandbox.hubspot import HubSpotSandbox, build_hubspot
from masterops_sandbox.unleashed import UnleashedSandbox, build_unleashed

BUSINESS = "teelixir"
SEED = 3
VOLUME = 60  # products per business: several pages at PAGE_SIZE, still fast
PAGE_SIZE = 25
# Faults fail attempts in a row: retry quickly and few times, so a failing run ends fast.
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.005, deadline=10.0)
# The default Unleashed bucket (10/s) would make small-page tests wait on the real clock.
ROOMY = {"default": LimitSpec(1000, 0.05)}


@dataclass
class InventoryRig:
    accounts: dict[str, SandboxAccount]
    unleashed_sandbox: UnleashedSandbox
    unleashed_harness: ServiceHarness
    hubspot_sandbox: HubSpotSandbox
    hubspot_harness: ServiceHarness
    runtime: ConnectorRuntime
    recorder: EventRecorder
    opened: list[UnleashedConnector | HubSpotConnector] = field(default_factory=list)

    @property
    def account(self) -> SandboxAccount:
        return self.accounts[BUSINESS]

    def unleashed(self) -> UnleashedConnector:
        conn = UnleashedConnector(
            business_id=BUSINESS,
            runtime=self.runtime,
            api_id=self.account.unleashed_api_id,
            api_key=self.account.unleashed_api_key,
            base_url="http://unleashed.sandbox",
            transport=SandboxTransport(app=self.unleashed_harness),
            retry=FAST_RETRY,
            limits=ROOMY,
        )
        self.opened.append(conn)
        return conn

    def hubspot(self, *, token: str | None = None) -> HubSpotConnector:
        conn = HubSpotConnector(
            business_id=BUSINESS,
            runtime=self.runtime,
            token=self.account.hubspot_token if token is None else token,
            tier=self.account.hubspot_tier,
            base_url="https://api.hubapi.com",
            transport=SandboxTransport(app=self.hubspot_harness),
            retry=FAST_RETRY,
        )
        self.opened.append(conn)
        return conn

    def hubspot_products(self) -> list[dict[str, Any]]:
        return self.hubspot_sandbox.records(BUSINESS, "products")


@asynccontextmanager
async def inventory_rig(*, volume: int = VOLUME) -> AsyncIterator[InventoryRig]:
    """The rig of ``BUSINESS`` with ``volume`` products. On leaving, every connector it
    opened and the HubSpot sandbox are closed."""
    accounts = sandbox_accounts(SEED)
    ours = {BUSINESS: accounts[BUSINESS]}  # one business: a quarter of the seeding time
    ul_sandbox, ul_harness = build_unleashed(ours, seed=SEED, volume=volume)
    hs_sandbox, hs_harness = build_hubspot(ours, seed=SEED)
    recorder = EventRecorder()
    runtime = ConnectorRuntime()
    runtime.hub.subscribe(recorder)
    rig = InventoryRig(ours, ul_sandbox, ul_harness, hs_sandbox, hs_harness, runtime, recorder)
    try:
        yield rig
    finally:
        for conn in rig.opened:
            await conn.aclose()
        await hs_sandbox.aclose()


def stored_products(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(products).where(products.c.business_id == BUSINESS))
        return {r.unleashed_guid: dict(r._mapping) for r in rows}


def stored_stock(engine: Engine) -> dict[tuple[str, str], dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(stock_levels).where(stock_levels.c.business_id == BUSINESS))
        return {(r.product_guid, r.warehouse_code): dict(r._mapping) for r in rows}


def row_count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def watermark(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(sync_state.c.watermark).where(
                sync_state.c.business_id == BUSINESS, sync_state.c.entity == "inventory"
            )
        ).scalar()


def runs(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(sync_runs).where(sync_runs.c.entity == "inventory").order_by(sync_runs.c.id)
        )
        return [dict(r._mapping) for r in rows]


def expected_stock_keys(sandbox: UnleashedSandbox) -> set[tuple[str, str]]:
    return {(line.product.guid.lower(), line.warehouse.code) for line in sandbox.stock(BUSINESS)}
