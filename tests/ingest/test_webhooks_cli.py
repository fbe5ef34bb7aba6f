"""``ops webhooks process|list`` end to end, through the real entry point."""

from __future__ import annotations

import json
from typing import Any

from ingest_helpers import deliver, event, mirror_row, seed_mirror
from sqlalchemy import select

from masterops.db.engine import create_db_engine
from masterops.db.tables import integration_logs, products


def test_process_and_list(ops: Any, database: Any) -> None:
    engine = create_db_engine(database.url)
    try:
        first = ops("webhooks", "process", "--json")  # migrates the embedded database
        assert first.exit_code == 0, first.stderr
        assert json.loads(first.stdout)["claimed"] == 0

        seed_mirror(engine)
        deliver(
            engine,
            event("product.deletion", 501),
            event("contact.creation", 601),
            event("contact.creation", 602),
            event("deal.deletion", None),  # malformed: no objectId
        )
        result = ops("webhooks", "process", "--json")
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert (report["processed"], report["failed"], report["retrying"]) == (3, 1, 0)
        assert {(r["subscription_type"], r["outcome"]): r["count"] for r in report["outcomes"]} == {
            ("product.deletion", "cleared"): 1,
            ("contact.creation", "no_action"): 2,
            ("deal.deletion", "failed"): 1,
        }
        assert mirror_row(engine, products, unleashed_guid="p-guid")["hubspot_id"] is None
        with engine.connect() as conn:
            logged = conn.execute(
                select(integration_logs.c.level, integration_logs.c.business_id).where(
                    integration_logs.c.source == "ingest",
                    integration_logs.c.status == "cleared",
                )
            ).all()
        assert [tuple(r) for r in logged] == [("warn", "teelixir")]

        again = ops("webhooks", "process", "--json")
        assert json.loads(again.stdout)["claimed"] == 0

        failed = ops("webhooks", "list", "--status", "failed", "--json")
        assert failed.exit_code == 0, failed.stderr
        [row] = json.loads(failed.stdout)
        assert row["subscription_type"] == "deal.deletion"
        assert "no objectId" in row["error"]

        processed = json.loads(ops("webhooks", "list", "--status", "processed", "--json").stdout)
        assert len(processed) == 3
        assert len(json.loads(ops("webhooks", "list", "--limit", "2", "--json").stdout)) == 2

        table = ops("webhooks", "list")
        assert table.exit_code == 0 and "deal.deletion" in table.stdout
        summary = ops("webhooks", "process")
        assert summary.exit_code == 0 and "0 processed" in summary.stdout
    finally:
        engine.dispose()


def test_bad_status_is_a_usage_error(ops: Any) -> None:
    result = ops("webhooks", "list", "--status", "done")
    assert result.exit_code == 2
    assert "--status" in result.stderr and "pending" in result.stderr


def test_bad_batch_size_is_a_usage_error(ops: Any) -> None:
    assert ops("webhooks", "process", "--batch-size", "0").exit_code == 2
