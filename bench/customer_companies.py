"""What wholesale companies cost the customer sync: a full sync as contacts only (the
baseline) against the same sync as companies with their contacts linked, measured in the
same run on fresh SQLite databases and a fresh in-process sandbox each.

Run: ``.venv/bin/python bench/customer_companies.py [--volume 400] [--rounds 3]``

Prints the best wall time of each mode, the HubSpot calls each made and the ratios. The
companies mode adds one batch upsert and one association batch per 100 customers, so the
expected ratio of calls is a little over 2. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Literal

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.integrations.base import ConnectorRuntime, LimitSpec
from masterops.integrations.hubspot import HubSpotConnector
from masterops.integrations.unleashed import UnleashedConnector
from masterops.sync.customers import sync_customers
from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.hubspot import build_hubspot
from masterops_sandbox.unleashed import build_unleashed

BUSINESS = "teelixir"
SEED = 7
# Roomy limits: the figure is the sync's own work, not the rate limiters' waiting.
ROOMY = {"default": LimitSpec(100_000, 1.0)}


async def one_run(
    mode: Literal["contacts", "companies"], volume: int, folder: Path
) -> tuple[float, int]:
    accounts = {BUSINESS: sandbox_accounts(SEED)[BUSINESS]}
    ul_sandbox, ul_harness = build_unleashed(accounts, seed=SEED, volume=volume)
    hs_sandbox, hs_harness = build_hubspot(accounts, seed=SEED)
    engine = create_db_engine(f"sqlite:///{folder / f'{mode}-{time.monotonic_ns()}.db'}")
    migrate.upgrade(engine)
    runtime = ConnectorRuntime()
    account = accounts[BUSINESS]
    unleashed = UnleashedConnector(
        business_id=BUSINESS,
        runtime=runtime,
        api_id=account.unleashed_api_id,
        api_key=account.unleashed_api_key,
        base_url="http://unleashed.sandbox",
        transport=SandboxTransport(app=ul_harness),
        limits=ROOMY,
    )
    hubspot = HubSpotConnector(
        business_id=BUSINESS,
        runtime=runtime,
        token=account.hubspot_token,
        tier="limit_pack",
        base_url="https://api.hubapi.com",
        transport=SandboxTransport(app=hs_harness),
    )
    try:
        start = time.perf_counter()
        await sync_customers(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, full=True,
            customers_as=mode,
        )  # fmt: skip
        elapsed = time.perf_counter() - start
        return elapsed, hs_harness.call_count(), len(ul_sandbox.customers(BUSINESS))
    finally:
        await unleashed.aclose()
        await hubspot.aclose()
        await hs_sandbox.aclose()
        engine.dispose()


async def main(volume: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        best: dict[str, tuple[float, int]] = {}
        customers = 0
        for _ in range(rounds):
            for mode in ("contacts", "companies"):
                elapsed, calls, customers = await one_run(mode, volume, folder)  # type: ignore[arg-type]
                if mode not in best or elapsed < best[mode][0]:
                    best[mode] = (elapsed, calls)
    (base_s, base_calls), (co_s, co_calls) = best["contacts"], best["companies"]
    print(f"{customers} customers (volume {volume}), best of {rounds}")
    print(f"contacts only (baseline): {base_s * 1000:8.1f} ms  {base_calls:5d} HubSpot calls")
    print(f"companies + contacts:     {co_s * 1000:8.1f} ms  {co_calls:5d} HubSpot calls")
    print(f"ratio: time x{co_s / base_s:.2f}, calls x{co_calls / base_calls:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volume", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.volume, args.rounds))
