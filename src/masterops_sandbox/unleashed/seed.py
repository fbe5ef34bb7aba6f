"""Seeded data for one business: warehouses, products, stock, customers, orders.

Deterministic: each kind of record draws from its own generator seeded with
``"{seed}:{business}:{kind}"`` (string seeds hash the same in every process),
so no kind's random stream depends on how many draws another kind made.
Instants are laid out before ``anchor`` (the start of the build day, UTC), so
that ``modifiedSince=<today>`` at first finds nothing and later finds exactly
what was changed after the build.

Sizes: ``volume`` products, ``volume // 2`` customers and ``volume`` orders of
1 to 5 lines; about 9 in 10 products have stock in one or more warehouses.
Records are built directly, not through the store's change methods: those
stamp "now", while seeded stamps lie in the past, and they validate what the
seed already knows to be valid.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate
from typing import TypeVar

from masterops_sandbox.unleashed.catalogue import (
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    PLACES,
    SHOP_KINDS,
    Base,
    Profile,
    Size,
)
from masterops_sandbox.unleashed.dates import DAY_MS
from masterops_sandbox.unleashed.orders import tax_rate_for
from masterops_sandbox.unleashed.records import (
    Customer,
    OrderLine,
    Product,
    SalesOrder,
    StockLine,
    Warehouse,
)
from masterops_sandbox.unleashed.store import BusinessStore

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SeedPlan:
    seed: int
    volume: int
    anchor_ms: int  # every seeded instant is before this


GC_PAUSE_FROM = 20_000


@contextmanager
def paused_gc(records: int) -> Iterator[None]:
    """Pause the cyclic garbage collector while records are made in bulk.

    The seed allocates hundreds of thousands of objects without any reference
    cycles; each collection pass would rescan all of them, which costs about a
    third of the build at large volumes. One full collection at the end moves
    the new objects to the oldest generation at once; without it the first
    requests after the build would pay for that pass. Small builds (``records``
    below ``GC_PAUSE_FROM``, as in most tests) leave the collector alone.
    """
    if records < GC_PAUSE_FROM:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


def seed_business(store: BusinessStore, profile: Profile, plan: SeedPlan) -> None:
    """Fill an empty store with the business's seeded records."""
    warehouses = _seed_warehouses(store, profile, _rng(plan, store, "warehouses"), plan)
    products = _seed_products(store, profile, _rng(plan, store, "products"), plan)
    _seed_stock(store, products, warehouses, _rng(plan, store, "stock"), plan)
    customers = _seed_customers(store, profile, _rng(plan, store, "customers"), plan)
    _seed_orders(store, profile, products, customers, warehouses, plan)


def _rng(plan: SeedPlan, store: BusinessStore, kind: str) -> random.Random:
    return random.Random(f"{plan.seed}:{store.slug}:{kind}")


# The version-4 bits, set by hand: uuid.UUID() per record costs a second per 300k.
_V4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_V4_SET = (0x8000 << 48) | (4 << 76)


def _guid(rng: random.Random) -> str:
    """A random version-4 UUID string, the same as ``str(uuid.UUID(int=..., version=4))``."""
    h = f"{(rng.getrandbits(128) & _V4_CLEAR) | _V4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _below(rng: random.Random, n: int) -> int:
    """A whole number in [0, n): ``randrange`` costs several times more per call,
    and the seed draws millions of these."""
    return int(rng.random() * n)


def _between(rng: random.Random, low: int, high: int) -> int:
    """Like ``randint``: low and high included."""
    return low + int(rng.random() * (high - low + 1))


def _pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def _distinct(rng: random.Random, items: Sequence[T], count: int) -> list[T]:
    """Up to ``count`` different items, in the order drawn."""
    count = min(count, len(items))
    chosen: dict[int, None] = {}
    while len(chosen) < count:
        chosen[int(rng.random() * len(items))] = None
    return [items[index] for index in chosen]


def _past(rng: random.Random, plan: SeedPlan, max_days: float) -> int:
    """An instant within ``max_days`` before the anchor, never at or after it."""
    return plan.anchor_ms - 1 - _below(rng, max(1, int(max_days * DAY_MS)))


def _seed_warehouses(
    store: BusinessStore, profile: Profile, rng: random.Random, plan: SeedPlan
) -> list[Warehouse]:
    count = rng.randint(2, min(4, len(profile.warehouses)))
    warehouses = [
        Warehouse(
            guid=_guid(rng),
            code=code,
            name=name,
            city=city,
            is_default=index == 0,
            obsolete=False,
            modified_ms=_past(rng, plan, 700),
        )
        for index, (code, name, city) in enumerate(profile.warehouses[:count])
    ]
    for warehouse in warehouses:
        store.add_warehouse(warehouse)
    return warehouses


def _combinations(profile: Profile) -> list[tuple[int, Base, Size]]:
    return [
        (line, base, size)
        for line in range(len(profile.lines))
        for base in profile.bases
        for size in profile.sizes
        if not size.groups or base.group in size.groups
    ]


def _seed_products(
    store: BusinessStore, profile: Profile, rng: random.Random, plan: SeedPlan
) -> list[Product]:
    combos = _combinations(profile)
    rng.shuffle(combos)
    products: list[Product] = []
    for index in range(plan.volume):
        line, base, size = combos[index % len(combos)]
        lot = index // len(combos)  # past the catalogue, the same item again as a new lot
        line_name, line_code = profile.lines[line]
        code = f"{profile.prefix}-{base.abbr}-{size.code}-{line_code}"
        description = f"{line_name}{base.name} {size.label}"
        if lot:
            code += f"-L{lot + 1}"
            description += f" (Lot {lot + 1})"
        price = base.price * size.factor * (1.0 + 0.08 * line) * rng.uniform(0.92, 1.08)
        sell = round(round(price * 20) / 20, 2)  # to the nearest 5 cents
        created = _past(rng, plan, 900)
        age_days = (plan.anchor_ms - created) / DAY_MS
        product = Product(
            guid=_guid(rng),
            code=code,
            description=description,
            barcode=None if rng.random() < 0.03 else _ean13(rng),
            sell_price=sell,
            purchase_price=round(sell * rng.uniform(0.4, 0.6), 2),
            group_name=base.group,
            unit=size.unit,
            weight=size.weight,
            is_obsolete=rng.random() < 0.05,
            created_ms=created,
            modified_ms=_past(rng, plan, min(age_days, 365.0)),
        )
        store.add_product(product)
        products.append(product)
    return products


def _ean13(rng: random.Random) -> str:
    digits = f"93{_below(rng, 10**10):010d}"
    odd = sum(int(d) for d in digits[0::2])
    even = sum(int(d) for d in digits[1::2])
    return digits + str((10 - (odd + 3 * even) % 10) % 10)


def _seed_stock(
    store: BusinessStore,
    products: list[Product],
    warehouses: list[Warehouse],
    rng: random.Random,
    plan: SeedPlan,
) -> None:
    default, others = warehouses[0], warehouses[1:]
    for product in products:
        if rng.random() < 0.08:
            continue  # never transacted: absent from /StockOnHand, as in Unleashed
        held = [default, *(w for w in others if rng.random() < 0.5)]
        for warehouse in held:
            on_hand = 0 if rng.random() < 0.1 else _between(rng, 1, 600)
            store.add_stock(
                StockLine(
                    guid=_guid(rng),
                    product=product,
                    warehouse=warehouse,
                    qty_on_hand=float(on_hand),
                    allocated_qty=float(_between(rng, 0, on_hand // 5)),
                    on_purchase=float(_between(rng, 12, 240)) if rng.random() < 0.2 else 0.0,
                    avg_cost=round(product.purchase_price * rng.uniform(0.95, 1.05), 4),
                    modified_ms=_past(rng, plan, 60),
                )
            )


def _seed_customers(
    store: BusinessStore, profile: Profile, rng: random.Random, plan: SeedPlan
) -> list[Customer]:
    currencies = [code for code, _ in profile.currencies]
    cumulative = list(accumulate(weight for _, weight in profile.currencies))
    customers: list[Customer] = []
    seen_names: dict[str, int] = {}
    for index in range(max(1, plan.volume // 2)):
        first, last = _pick(rng, FIRST_NAMES), _pick(rng, LAST_NAMES)
        if profile.wholesale:
            name = f"{_pick(rng, PLACES)} {_pick(rng, SHOP_KINDS)}"
            repeat = seen_names[name] = seen_names.get(name, 0) + 1
            if repeat > 1:
                name = f"{name} #{repeat}"
            initials = "".join(word[0] for word in name.split() if word[0].isalpha())
            code = f"{initials[:4].upper()}{index + 1:05d}"
            domain = "".join(ch for ch in name.split("#")[0].lower() if ch.isalnum())
            email = f"orders@{domain}.com.au"
        else:
            name = f"{first} {last}"
            code = f"{profile.prefix}C{index + 1:06d}"
            local = f"{first}.{last}".lower().replace("'", "")
            email = f"{local}{_between(rng, 1, 999)}@{_pick(rng, EMAIL_DOMAINS)}"
        created = _past(rng, plan, 800)
        age_days = (plan.anchor_ms - created) / DAY_MS
        customer = Customer(
            guid=_guid(rng),
            code=code,
            name=name,
            email=None if rng.random() < 0.03 else email,
            first_name=first,
            last_name=last,
            phone=f"04{_between(rng, 10, 99)} {_between(rng, 100, 999)} {_between(rng, 100, 999)}",
            currency=rng.choices(currencies, cum_weights=cumulative)[0],
            customer_type="Wholesale" if profile.wholesale else "Retail",
            obsolete=rng.random() < 0.04,
            created_ms=created,
            modified_ms=_past(rng, plan, min(age_days, 365.0)),
        )
        store.add_customer(customer)
        customers.append(customer)
    return customers


_RECENT_STATUSES = ("Open", "Parked", "Placed", "Backordered", "Completed", "Deleted")
_RECENT_WEIGHTS = tuple(accumulate((15, 20, 35, 10, 15, 5)))
_DISCOUNTS = (0.0, 0.0, 0.1, 0.15)
_OLD_STATUSES = ("Completed", "Deleted", "Placed", "Backordered")
_OLD_WEIGHTS = tuple(accumulate((86, 4, 6, 4)))


def _seed_orders(
    store: BusinessStore,
    profile: Profile,
    products: list[Product],
    customers: list[Customer],
    warehouses: list[Warehouse],
    plan: SeedPlan,
) -> None:
    rng = _rng(plan, store, "orders")
    sellable = [p for p in products if not p.is_obsolete] or products
    buyers = [c for c in customers if not c.obsolete] or customers
    # Numbers rise with the order date, as they do when orders are keyed in day by day.
    dates = sorted(_past(rng, plan, 90) for _ in range(plan.volume))
    low, high = profile.order_qty
    for index, order_ms in enumerate(dates):
        customer = _pick(rng, buyers)
        age_days = (plan.anchor_ms - order_ms) / DAY_MS
        if age_days > 14:
            status = rng.choices(_OLD_STATUSES, cum_weights=_OLD_WEIGHTS)[0]
        else:
            status = rng.choices(_RECENT_STATUSES, cum_weights=_RECENT_WEIGHTS)[0]
        tax_rate = tax_rate_for(customer.currency)
        lines = []
        for number, product in enumerate(_distinct(rng, sellable, _between(rng, 1, 5))):
            quantity = float(_between(rng, low, high))
            discount = _pick(rng, _DISCOUNTS) if profile.wholesale else 0.0
            total = round(quantity * product.sell_price * (1.0 - discount), 2)
            lines.append(
                OrderLine(
                    guid=_guid(rng),
                    line_number=number + 1,
                    product=product,
                    quantity=quantity,
                    unit_price=product.sell_price,
                    discount_rate=discount,
                    line_total=total,
                    line_tax=round(total * tax_rate, 2),
                )
            )
        completed = None
        modified = min(order_ms + _below(rng, DAY_MS), plan.anchor_ms - 1)
        if status == "Completed":
            completed = min(order_ms + _below(rng, 7 * DAY_MS), plan.anchor_ms - 1)
            modified = completed
        warehouse = warehouses[0] if rng.random() < 0.6 else _pick(rng, warehouses)
        store.add_order(
            SalesOrder(
                guid=_guid(rng),
                number=f"SO-{index + 1:08d}",
                order_ms=order_ms,
                required_ms=order_ms + _between(rng, 2, 14) * DAY_MS,
                completed_ms=completed,
                status=status,
                customer=customer,
                warehouse=warehouse,
                currency=customer.currency,
                tax_rate=tax_rate,
                lines=lines,
                sub_total=round(sum(line.line_total for line in lines), 2),
                tax_total=round(sum(line.line_tax for line in lines), 2),
                created_ms=order_ms,
                modified_ms=modified,
            )
        )
