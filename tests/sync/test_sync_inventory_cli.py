"""``ops sync inventory`` end to end on the in-process sandbox."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from masterops.db.engine import create_db_engine
from masterops.db.tables import products, stock_levels


def _counts(url: str) -> tuple[int, int, int]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(products)).scalar_one()
        sent = conn.execute(
            select(func.count()).select_from(products).where(products.c.hubspot_id.is_not(None))
        ).scalar_one()
        stock = conn.execute(select(func.count()).select_from(stock_levels)).scalar_one()
    engine.dispose()
    return int(total), int(sent), int(stock)


def test_sync_inventory_every_business(ops, database) -> None:  # type: ignore[no-untyped-def]
    result = ops("sync", "inventory", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["entity"] == "inventory"
    rows = {r["business"]: r for r in report["results"]}
    assert set(rows) == {"teelixir", "elevate", "boo", "rhf"}
    for row in rows.values():
        assert row["status"] == "succeeded" and row["fetched"] == row["written"] > 0
        assert row["result"]["hubspot_created"] > 0 and row["result"]["hubspot_failed"] == 0
    total, sent, stock = _counts(database.url)
    assert total == sum(r["result"]["products_written"] for r in rows.values())
    assert sent == sum(r["result"]["hubspot_upserted"] for r in rows.values())
    assert stock == sum(r["result"]["stock_written"] for r in rows.values())


def test_sync_inventory_database_only_and_bad_input(ops, database) -> None:  # type: ignore[no-untyped-def]
    result = ops("sync", "inventory", "--business", "boo", "--no-hubspot", "--json")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)["results"]
    assert row["target"] == "boo (unleashed)" and row["result"]["hubspot_enabled"] is False
    total, sent, _ = _counts(database.url)
    assert total > 0 and sent == 0
    bad = ops("sync", "inventory", "--business", "acme")
    assert bad.exit_code == 2 and "unknown business 'acme'" in bad.stderr
