"""``UnleashedSandbox``: the Python side of the Unleashed imitation.

Tests, the demo and the benchmarks read and change the seeded data here, in
the same way the API would: every change stamps ``LastModifiedOn`` with the
injectable clock, so incremental syncs see it. Records are looked up by Guid
or by code (number for orders), per business slug.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from masterops_sandbox.accounts import SandboxAccount
from masterops_sandbox.unleashed import orders as sales
from masterops_sandbox.unleashed.auth import Account
from masterops_sandbox.unleashed.catalogue import PROFILES
from masterops_sandbox.unleashed.dates import start_of_day, to_ms
from masterops_sandbox.unleashed.errors import NotFound
from masterops_sandbox.unleashed.orders import LineSpec
from masterops_sandbox.unleashed.quota import QuotaMeter, QuotaSwitches
from masterops_sandbox.unleashed.records import (
    Customer,
    Product,
    SalesOrder,
    StockLine,
    Warehouse,
)
from masterops_sandbox.unleashed.seed import SeedPlan, paused_gc, seed_business
from masterops_sandbox.unleashed.serialize import to_json
from masterops_sandbox.unleashed.store import BusinessStore


class UnleashedSandbox:
    """The data, accounts and quotas of the Unleashed imitation."""

    def __init__(
        self,
        accounts: Mapping[str, SandboxAccount],
        *,
        seed: int = 0,
        volume: int = 300,
        monthly_quota: int = 15_000,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if volume < 1:
            raise ValueError("volume must be at least 1")
        self.seed = seed
        self.volume = volume
        self.now = now
        self.switches = QuotaSwitches()
        plan = SeedPlan(seed=seed, volume=volume, anchor_ms=to_ms(start_of_day(now())))
        self._accounts: dict[str, Account] = {}
        self._by_api_id: dict[str, Account] = {}
        with paused_gc(records=volume * len(accounts)):
            for index, (slug, account) in enumerate(accounts.items()):
                store = BusinessStore(slug, account.name, seed=seed, now=now)
                # An unknown business (not one of the four) borrows a profile in turn.
                profile = PROFILES.get(slug) or list(PROFILES.values())[index % len(PROFILES)]
                seed_business(store, profile, plan)
                entry = Account(
                    business=slug,
                    api_id=account.unleashed_api_id,
                    api_key=account.unleashed_api_key,
                    store=store,
                    quota=QuotaMeter(monthly_quota, now),
                )
                self._accounts[slug] = entry
                self._by_api_id[account.unleashed_api_id] = entry

    # ---- accounts ----

    @property
    def businesses(self) -> list[str]:
        return list(self._accounts)

    @property
    def accounts_by_api_id(self) -> Mapping[str, Account]:
        return self._by_api_id

    def store(self, business: str) -> BusinessStore:
        try:
            return self._accounts[business].store
        except KeyError:
            raise NotFound(f"No Unleashed account for business '{business}'") from None

    # ---- reading ----

    def warehouses(self, business: str) -> list[Warehouse]:
        return list(self.store(business).warehouses)

    def warehouse(self, business: str, key: str) -> Warehouse:
        return self.store(business).find_warehouse(key)

    def products(self, business: str, *, include_obsolete: bool = True) -> list[Product]:
        found = self.store(business).products
        return [p for p in found if include_obsolete or not p.is_obsolete]

    def product(self, business: str, key: str) -> Product:
        """A product by Guid or ProductCode."""
        return self.store(business).find_product(key)

    def stock(self, business: str, product: str | None = None) -> list[StockLine]:
        """All stock lines, or those of one product (by Guid or code)."""
        store = self.store(business)
        if product is None:
            return list(store.stock)
        return store.stock_of(store.find_product(product))

    def customers(self, business: str, *, include_obsolete: bool = True) -> list[Customer]:
        found = self.store(business).customers
        return [c for c in found if include_obsolete or not c.obsolete]

    def customer(self, business: str, key: str) -> Customer:
        """A customer by Guid or CustomerCode."""
        return self.store(business).find_customer(key)

    def orders(self, business: str, *, status: str | None = None) -> list[SalesOrder]:
        return [o for o in self.store(business).orders if status is None or o.status == status]

    def order(self, business: str, key: str) -> SalesOrder:
        """A sales order by Guid or OrderNumber."""
        return self.store(business).find_order(key)

    @staticmethod
    def to_json(record: object) -> dict[str, Any]:
        """A record exactly as the API would write it."""
        return to_json(record)

    # ---- changing ----

    def update_product(self, business: str, key: str, **changes: Any) -> Product:
        """Change fields (``description``, ``sell_price``, ``is_obsolete``, ...) of a
        product; its ``LastModifiedOn`` moves to now."""
        store = self.store(business)
        return store.update_product(store.find_product(key), **changes)

    def create_product(self, business: str, code: str, description: str, **fields: Any) -> Product:
        store = self.store(business)
        product, _ = store.save_product(
            store.new_guid(), {"code": code, "description": description, **fields}
        )
        return product

    def set_stock(
        self, business: str, product: str, warehouse: str | None = None, **figures: float
    ) -> StockLine:
        """Set ``qty_on_hand``, ``allocated_qty``, ``on_purchase`` or ``avg_cost`` of a
        product in a warehouse (by code or Guid; the default one when omitted).
        The stock line's ``LastModifiedOn`` moves to now; the product's does not."""
        store = self.store(business)
        where = store.default_warehouse() if warehouse is None else store.find_warehouse(warehouse)
        return store.set_stock(store.find_product(product), where, **figures)

    def update_customer(self, business: str, key: str, **changes: Any) -> Customer:
        store = self.store(business)
        return store.update_customer(store.find_customer(key), **changes)

    def create_customer(self, business: str, code: str, name: str, **fields: Any) -> Customer:
        store = self.store(business)
        customer, _ = store.save_customer(store.new_guid(), {"code": code, "name": name, **fields})
        return customer

    def create_order(
        self,
        business: str,
        customer: str,
        lines: Iterable[tuple[str, float]],
        **options: Any,
    ) -> SalesOrder:
        """A new order for ``customer`` with ``(product code or Guid, quantity)`` lines;
        options as ``orders.create_order`` (``status``, ``warehouse``, ...)."""
        store = self.store(business)
        specs = [LineSpec(store.find_product(key), float(qty)) for key, qty in lines]
        return sales.create_order(
            store, store.new_guid(), customer=store.find_customer(customer), lines=specs, **options
        )

    def complete_order(self, business: str, key: str) -> SalesOrder:
        store = self.store(business)
        return sales.complete_order(store, store.find_order(key))

    def set_order_status(self, business: str, key: str, status: str) -> SalesOrder:
        store = self.store(business)
        return sales.set_order_status(store, store.find_order(key), status)

    def drop_order_line(self, business: str, key: str, line_number: int) -> SalesOrder:
        """Remove line ``line_number`` from an order; its ``LastModifiedOn`` moves to now."""
        store = self.store(business)
        return sales.drop_line(store, store.find_order(key), line_number)

    # ---- quota ----

    def quota(self, business: str) -> QuotaMeter:
        try:
            return self._accounts[business].quota
        except KeyError:
            raise NotFound(f"No Unleashed account for business '{business}'") from None

    def quota_used(self, business: str) -> int:
        return self.quota(business).used

    def set_quota_used(self, business: str, used: int) -> None:
        self.quota(business).set_used(used)

    def set_monthly_quota(self, business: str, limit: int) -> None:
        if limit < 1:
            raise ValueError("the monthly quota must be at least 1")
        self.quota(business).limit = limit

    @property
    def blocked_status(self) -> int:
        """The status of requests the quota blocks (unverified at Unleashed; 429 here)."""
        return self.switches.blocked_status

    @blocked_status.setter
    def blocked_status(self, status: int) -> None:
        self.switches.blocked_status = status

    # ---- figures ----

    def counts(self, business: str | None = None) -> dict[str, dict[str, int]]:
        """Records per resource, and quota used and limit, per business."""
        chosen = self._accounts if business is None else {business: self._accounts[business]}
        return {
            slug: {
                **account.store.counts(),
                "quota_used": account.quota.used,
                "quota_limit": account.quota.limit,
            }
            for slug, account in chosen.items()
        }

    def state(self) -> dict[str, Any]:
        """What ``/_sandbox/state`` shows for this service."""
        return {"accounts": self.counts(), "blocked_status": self.blocked_status}

    # ---- snapshot (the state folder) ----

    def to_state(self) -> dict[str, Any]:
        """Every account's records and quota as JSON data."""
        return {
            "accounts": {
                slug: {"store": account.store.to_state(), "quota": account.quota.to_state()}
                for slug, account in self._accounts.items()
            },
            "blocked_status": self.blocked_status,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace every account's records and quota with a ``to_state`` snapshot."""
        different = set(self._accounts) ^ set(state["accounts"])
        if different:
            raise ValueError(f"the Unleashed snapshot is for other businesses: {sorted(different)}")
        for slug, saved in state["accounts"].items():
            self._accounts[slug].store.load_state(saved["store"])
            self._accounts[slug].quota.load_state(saved["quota"])
        self.blocked_status = int(state["blocked_status"])
