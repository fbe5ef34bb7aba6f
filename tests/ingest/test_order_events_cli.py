"""``ops events list|show|replay|process`` and ``ops db prune`` on the event log, through
the real entry point on the embedded sandbox, on every backend."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from masterops.db.engine import create_db_engine
from masterops.db.tables import orders, webhook_inbox
from masterops.web.inbox import InboxEvent, store_events
from masterops.web.nul import NUL_REASON

BUSINESS = "teelixir"


def _order(number: str) -> dict[str, Any]:
    """An Unleashed-shaped sales order of a customer and product of no one's seed."""
    return {
        "Guid": str(uuid.uuid4()),
        "OrderNumber": number,
        "OrderStatus": "Placed",
        "OrderDate": "/Date(1764806400000)/",
        "Customer": {"Guid": str(uuid.uuid4()), "CustomerCode": "CLI-1", "CustomerName": "Cli"},
        "SalesOrderLines": [
            {
                "Guid": str(uuid.uuid4()),
                "LineNumber": 1,
                "Product": {"Guid": str(uuid.uuid4()), "ProductCode": "CLI-P"},
                "OrderQuantity": 3,
                "UnitPrice": 4.5,
                "LineTotal": 13.5,
            }
        ],
        "SubTotal": 13.5,
        "TaxTotal": 0,
        "Total": 13.5,
        "LastModifiedOn": "/Date(1764806400000)/",
    }


def _event(payload: dict[str, Any], error: str | None = None) -> InboxEvent:
    return InboxEvent(
        source="orders",
        event_id=f"{BUSINESS}:{payload['Guid']}",
        business_id=BUSINESS,
        subscription_type="sales_order",
        object_id=payload["Guid"],
        occurred_at=None,
        payload=payload,
        error=error,
    )


def _order_row(engine: Any, guid: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(orders).where(orders.c.unleashed_guid == guid)).one()
        return dict(row._mapping)


def test_list_show_process_and_replay(ops: Any, database: Any) -> None:
    engine = create_db_engine(database.url)
    try:
        first = ops("events", "process", "--json")  # migrates the embedded database
        assert first.exit_code == 0, first.stderr
        assert json.loads(first.stdout)["orders"] == []

        good = _order("SO-CLI-1")
        poisoned = _order("SO-CLI-2")
        store_events(engine, [_event(good), _event(poisoned, NUL_REASON)])

        listed = json.loads(ops("events", "list", "--source", "orders", "--json").stdout)
        assert {r["payload_json"]["OrderNumber"]: r["status"] for r in listed} == {
            "SO-CLI-1": "pending",
            "SO-CLI-2": "failed",
        }
        assert json.loads(ops("events", "list", "--source", "hubspot", "--json").stdout) == []
        recent = ops("events", "list", "--since", "1h", "--business", BUSINESS, "--json")
        assert len(json.loads(recent.stdout)) == 2
        assert json.loads(ops("events", "list", "--business", "boo", "--json").stdout) == []

        processed = ops("events", "process", "--json")
        assert processed.exit_code == 0, processed.stderr
        [report] = json.loads(processed.stdout)["orders"]
        assert (report["business_id"], report["processed"], report["failed"]) == (BUSINESS, 1, 0)
        stored = _order_row(engine, good["Guid"])
        assert stored["hubspot_deal_id"] and stored["hubspot_synced_at"]

        good_id = next(r["id"] for r in listed if r["payload_json"]["OrderNumber"] == "SO-CLI-1")
        shown = ops("events", "show", str(good_id), "--json")
        assert shown.exit_code == 0, shown.stderr
        event = json.loads(shown.stdout)
        assert event["status"] == "processed" and event["payload_json"] == good
        assert ops("events", "show", str(good_id)).exit_code == 0
        missing = ops("events", "show", "999999")
        assert missing.exit_code == 1 and "no event with id 999999" in missing.stderr

        dry = ops("events", "replay", "--business", BUSINESS, "--dry-run", "--json")
        assert dry.exit_code == 0, dry.stderr
        would = json.loads(dry.stdout)
        # The NUL event was refused at receipt: never replayed.
        assert [r["id"] for r in would["selected"]] == [good_id] and would["replayed"] == 0
        assert json.loads(ops("events", "show", str(good_id), "--json").stdout)["status"] == (
            "processed"
        )

        for _ in range(2):
            again = ops("events", "replay", "--business", BUSINESS, "--json")
            assert again.exit_code == 0, again.stderr
            replayed = json.loads(again.stdout)
            assert replayed["replayed"] == 1
            assert [(r["processed"], r["failed"]) for r in replayed["orders"]] == [(1, 0)]
            assert _order_row(engine, good["Guid"]) == stored  # nothing changed

        by_id = ops("events", "replay", "--id", str(good_id))
        assert by_id.exit_code == 0 and "1 replayed: 1 applied, 0 not" in by_id.stdout
    finally:
        engine.dispose()


def test_bad_input_is_one_line(ops: Any) -> None:
    unscoped = ops("events", "replay")
    assert unscoped.exit_code == 2 and "say which events" in unscoped.stderr
    assert ops("events", "list", "--status", "done").exit_code == 2
    bad_source = ops("events", "list", "--source", "stripe")
    assert bad_source.exit_code == 2 and "hubspot, orders" in bad_source.stderr
    bad_since = ops("events", "list", "--since", "last week")
    assert bad_since.exit_code == 2 and "--since" in bad_since.stderr
    unknown = ops("events", "replay", "--business", "acme")
    assert unknown.exit_code == 2 and "unknown business 'acme'" in unknown.stderr
    for result in (unscoped, bad_source, bad_since, unknown):
        assert "Traceback" not in result.stderr


def test_prune_never_deletes_a_processed_event(ops: Any, database: Any) -> None:
    ops("db", "upgrade")
    old = datetime.now(UTC) - timedelta(days=400)
    engine = create_db_engine(database.url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(webhook_inbox),
                [
                    {
                        "source": source,
                        "event_id": f"{source}-{status}",
                        "business_id": BUSINESS,
                        "status": status,
                        "received_at": old,
                        "attempts": 1,
                        "payload_json": {},
                    }
                    for source in ("orders", "hubspot")
                    for status in ("pending", "processed", "failed")
                ],
            )
    finally:
        engine.dispose()
    pruned = ops("db", "prune", "--older-than", "30d", "--yes", "--json")
    assert pruned.exit_code == 0, pruned.stderr
    assert json.loads(pruned.stdout)["deleted"]["webhook_inbox"] == 2
    left = json.loads(ops("events", "list", "--json").stdout)
    assert sorted((r["source"], r["status"]) for r in left) == [
        ("hubspot", "pending"),
        ("hubspot", "processed"),
        ("orders", "pending"),
        ("orders", "processed"),
    ]


def test_the_webhooks_job_applies_pending_order_events(ops: Any, database: Any) -> None:
    ops("db", "upgrade")
    engine = create_db_engine(database.url)
    try:
        order = _order("SO-JOB-1")
        store_events(engine, [_event(order)])
        result = ops("worker", "--once", "webhooks", "--json")
        assert result.exit_code == 0, result.stderr
        [run] = json.loads(result.stdout)["results"]
        assert run["status"] == "succeeded"
        assert [(r["business_id"], r["processed"]) for r in run["orders"]] == [(BUSINESS, 1)]
        assert _order_row(engine, order["Guid"])["hubspot_deal_id"]
    finally:
        engine.dispose()
