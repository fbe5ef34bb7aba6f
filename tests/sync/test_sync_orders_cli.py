"""``ops sync orders`` end to end on the in-process sandbox."""

from __future__ import annotations

import json


def test_sync_orders_every_business(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("sync", "orders", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["entity"] == "orders"
    rows = {r["business"]: r for r in report["results"]}
    assert set(rows) == {"teelixir", "elevate", "boo", "rhf"}
    for row in rows.values():
        details = row["result"]
        assert row["status"] == "succeeded"
        assert row["fetched"] == details["orders_fetched"] > 0
        assert row["written"] == details["orders_written"] + details["lines_written"]
        assert details["deals_created"] > 0 and details["hubspot_failed"] == 0
    orders = json.loads(
        ops("db", "query", "orders", "-f", "business_id=boo", "--limit", "1000", "--json").stdout
    )
    assert len(orders) == rows["boo"]["result"]["orders_written"]
    # Every order became a deal, except one deleted before it was ever sent.
    assert all(o["hubspot_deal_id"] for o in orders if o["status"] != "Deleted")
    assert sum(1 for o in orders if o["hubspot_deal_id"]) == rows["boo"]["result"]["deals_created"]


def test_sync_orders_bad_input(ops) -> None:  # type: ignore[no-untyped-def]
    bad = ops("sync", "orders", "--business", "acme")
    assert bad.exit_code == 2 and "unknown business 'acme'" in bad.stderr
