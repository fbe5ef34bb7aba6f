"""A sync with nothing to do asks each endpoint at most once (P5): after a full run of
inventory, customers and orders, an incremental run of each, with nothing changed in
Unleashed, makes at most one call per endpoint and no property check at all, on every
database backend. (Counts of calls, read from the sandbox's call log: not timings.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from inventory_helpers import BUSINESS, PAGE_SIZE, InventoryRig, inventory_rig
from sqlalchemy import Engine

from masterops.sync.customers import sync_customers
from masterops.sync.inventory import sync_inventory
from masterops.sync.orders import sync_orders

PROPERTY = "/crm/v3/properties/{objectType}/{propertyName}"
SYNCS: dict[str, Callable[..., Awaitable[Any]]] = {
    "inventory": sync_inventory,
    "customers": sync_customers,
    "orders": sync_orders,
}


async def _run(rig: InventoryRig, engine: Engine, name: str, *, full: bool) -> None:
    result = await SYNCS[name](
        rig.unleashed(),
        engine,
        business_id=BUSINESS,
        hubspot=rig.hubspot(),
        full=full,
        page_size=PAGE_SIZE * 10,  # one page per listing: the target is one call each
    )
    assert result.ok, result.to_dict()


def _calls(rig: InventoryRig) -> dict[str, int]:
    seen: dict[str, int] = {}
    for harness in (rig.unleashed_harness, rig.hubspot_harness):
        for (method, endpoint), count in harness.calls.items():
            seen[f"{harness.name} {method} {endpoint}"] = count
        harness.reset_calls()
    return seen


async def test_a_no_change_run_of_each_hubspot_sync_calls_each_endpoint_at_most_once(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        for name in SYNCS:  # in this order: orders link the products and contacts
            await _run(rig, engine, name, full=True)
        _calls(rig)
        for name in SYNCS:
            await _run(rig, engine, name, full=False)
            calls = _calls(rig)
            assert calls, f"{name}: a no-change run still reads Unleashed once"
            over = {endpoint: n for endpoint, n in calls.items() if n > 1}
            assert over == {}, f"{name}: more than one call per endpoint: {over}"
            property_checks = {e: n for e, n in calls.items() if e.endswith(PROPERTY)}
            assert property_checks == {}, f"{name}: nothing to send, yet {property_checks}"


async def test_a_run_with_something_to_send_still_sets_up_its_property(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await _run(rig, engine, "inventory", full=True)
        _calls(rig)
        # A full run sends every product again: each owned product property (the Guid it
        # upserts by and the stock on hand) is checked first, once.
        await _run(rig, engine, "inventory", full=True)
        assert _calls(rig).get(f"hubspot GET {PROPERTY}") == 2
