"""The seeded data: deterministic, per business, realistic, sized by ``volume``."""

from __future__ import annotations

from datetime import UTC, datetime

from unleashed_fixtures import *  # noqa: F403
from unleashed_fixtures import FIXED_NOW

from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.unleashed import UnleashedSandbox, build_unleashed


def _dump(sandbox: UnleashedSandbox) -> dict[str, list[dict[str, object]]]:
    dump: dict[str, list[dict[str, object]]] = {}
    for business in sandbox.businesses:
        records: list[object] = [
            *sandbox.warehouses(business),
            *sandbox.products(business),
            *sandbox.stock(business),
            *sandbox.customers(business),
            *sandbox.orders(business),
        ]
        dump[business] = [sandbox.to_json(record) for record in records]
    return dump


def _build(seed: int, volume: int = 60, now: datetime = FIXED_NOW) -> UnleashedSandbox:
    return build_unleashed(sandbox_accounts(0), seed=seed, volume=volume, now=lambda: now)[0]


def test_same_seed_gives_the_same_data() -> None:
    assert _dump(_build(7)) == _dump(_build(7))


def test_same_day_gives_the_same_data() -> None:
    # Data hangs off the start of the build day, so the time of day does not matter.
    later = datetime(2026, 3, 15, 22, 0, tzinfo=UTC)
    assert _dump(_build(7)) == _dump(_build(7, now=later))


def test_another_seed_gives_other_data() -> None:
    one, other = _dump(_build(1)), _dump(_build(2))
    assert one["teelixir"] != other["teelixir"]


def test_businesses_have_their_own_data() -> None:
    sandbox = _build(0)
    guids = [{p.guid for p in sandbox.products(b)} for b in sandbox.businesses]
    assert sum(len(g) for g in guids) == len(set().union(*guids))
    groups = {b: {p.group_name for p in sandbox.products(b)} for b in sandbox.businesses}
    assert "Medicinal Mushrooms" in groups["teelixir"]
    assert "Fresh Vegetables" in groups["rhf"]
    assert "Organic Teas" in groups["boo"]
    assert "Superfood Powders" in groups["elevate"]


def test_sizes_follow_volume() -> None:
    sandbox = _build(0, volume=200)
    for business, counts in sandbox.counts().items():
        assert counts["products"] == 200, business
        assert counts["customers"] == 100
        assert counts["sales_orders"] == 200
        assert 2 <= counts["warehouses"] <= 4
        # most products have stock, some in several warehouses
        with_stock = {s.product.guid for s in sandbox.stock(business)}
        assert 0.8 * 200 <= len(with_stock) < 200
        assert counts["stock_on_hand"] > len(with_stock)


def test_codes_are_unique_beyond_the_catalogue() -> None:
    sandbox = _build(0, volume=1500)  # more than the distinct items of any business
    for business in sandbox.businesses:
        codes = [p.code for p in sandbox.products(business)]
        assert len(codes) == len(set(codes)) == 1500
        customer_codes = [c.code for c in sandbox.customers(business)]
        assert len(customer_codes) == len(set(customer_codes))


def test_seeded_instants_lie_before_the_build_day() -> None:
    sandbox = _build(0)
    day_start = int(datetime(2026, 3, 15, tzinfo=UTC).timestamp() * 1000)
    for business in sandbox.businesses:
        for product in sandbox.products(business):
            assert product.created_ms <= product.modified_ms < day_start
        for order in sandbox.orders(business):
            assert order.modified_ms < day_start
            assert order.order_ms >= day_start - 90 * 86_400_000
            if order.status == "Completed":
                assert order.completed_ms is not None


def test_barcodes_are_valid_ean13() -> None:
    sandbox = _build(0)
    for product in sandbox.products("boo"):
        if product.barcode is None:
            continue
        digits = [int(d) for d in product.barcode]
        assert len(digits) == 13
        assert (sum(digits[0::2]) + 3 * sum(digits[1::2])) % 10 == 0
