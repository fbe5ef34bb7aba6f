"""``ops sync customers`` end to end on the in-process sandbox."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from masterops.db.engine import create_db_engine
from masterops.db.tables import customers


def _counts(url: str) -> tuple[int, int]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(customers)).scalar_one()
        sent = conn.execute(
            select(func.count()).select_from(customers).where(customers.c.hubspot_id.is_not(None))
        ).scalar_one()
    engine.dispose()
    return int(total), int(sent)


def test_sync_customers_every_business(ops, database) -> None:  # type: ignore[no-untyped-def]
    result = ops("sync", "customers", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["entity"] == "customers"
    rows = {r["business"]: r for r in report["results"]}
    assert set(rows) == {"teelixir", "elevate", "boo", "rhf"}
    for row in rows.values():
        assert row["status"] == "succeeded" and row["fetched"] == row["written"] > 0
        assert row["target"].endswith("(unleashed -> hubspot)")
        details = row["result"]
        assert details["hubspot_upserted"] > 0 and details["hubspot_failed"] == 0
    total, sent = _counts(database.url)
    assert total == sum(r["result"]["customers_written"] for r in rows.values())
    # Every customer that became or joined a contact stores its id.
    assert sent == sum(
        r["result"]["hubspot_upserted"] + r["result"]["hubspot_merged"] for r in rows.values()
    )

    # Run again: nothing duplicated in the mirror.
    again = ops("sync", "customers", "--json")
    assert again.exit_code == 0, again.stderr
    assert _counts(database.url)[0] == total


def test_sync_customers_database_only_and_bad_input(ops, database) -> None:  # type: ignore[no-untyped-def]
    result = ops("sync", "customers", "--business", "boo", "--no-hubspot", "--json")
    assert result.exit_code == 0, result.stderr
    [row] = json.loads(result.stdout)["results"]
    assert row["target"] == "boo (unleashed)" and row["result"]["hubspot_enabled"] is False
    total, sent = _counts(database.url)
    assert total > 0 and sent == 0
    bad = ops("sync", "customers", "--business", "acme")
    assert bad.exit_code == 2 and "unknown business 'acme'" in bad.stderr


def test_wholesale_businesses_get_companies_retail_ones_do_not(ops, database) -> None:  # type: ignore[no-untyped-def]
    result = ops("sync", "customers", "--json")
    assert result.exit_code == 0, result.stderr
    rows = {r["business"]: r["result"] for r in json.loads(result.stdout)["results"]}
    engine = create_db_engine(database.url)
    with engine.connect() as conn:
        with_company = dict(
            conn.execute(
                select(customers.c.business_id, func.count())
                .where(customers.c.hubspot_company_id.is_not(None))
                .group_by(customers.c.business_id)
            ).all()
        )
        active = dict(
            conn.execute(
                select(customers.c.business_id, func.count())
                .where(customers.c.obsolete.is_(False))
                .group_by(customers.c.business_id)
            ).all()
        )
    engine.dispose()
    # The registry's defaults: teelixir and elevate are wholesale, boo and rhf retail.
    for slug in ("teelixir", "elevate"):
        assert rows[slug]["hubspot_companies_created"] == active[slug] == with_company[slug]
    for slug in ("boo", "rhf"):
        assert rows[slug]["hubspot_companies_upserted"] == 0 and slug not in with_company
