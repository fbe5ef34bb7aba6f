"""``process_inbox``: what each HubSpot event does to the mirror, retries, idempotency."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ingest_helpers import (
    BUSINESS,
    SYNCED_AT,
    deliver,
    event,
    inbox,
    mirror_row,
    seed_mirror,
)
from sqlalchemy import Connection, Engine, insert, update

from masterops.db.tables import customers, order_lines, orders, products, webhook_inbox
from masterops.ingest import EventOutcome, ProcessReport, handle_event, process_inbox
from masterops.observability.events import EventRecorder, LogEvent, TelemetryHub
from masterops.observability.redaction import Redactor
from masterops.web.inbox import InboxEvent

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def recorder() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
def hub(recorder: EventRecorder) -> TelemetryHub:
    hub = TelemetryHub()
    hub.subscribe(recorder)
    return hub


def run(engine: Engine, hub: TelemetryHub, **kwargs: Any) -> ProcessReport:
    return process_inbox(engine, hub, now=NOW, **kwargs)


def warnings(recorder: EventRecorder) -> list[LogEvent]:
    return [e for e in recorder.logs if e.level == "warn"]


def test_deletion_of_managed_objects_clears_their_ids(
    engine: Engine, hub: TelemetryHub, recorder: EventRecorder
) -> None:
    seed_mirror(engine)
    ids = deliver(
        engine,
        event("product.deletion", 501),
        event("contact.deletion", 601),
        event("deal.deletion", 701),
    )
    report = run(engine, hub)

    assert (report.processed, report.failed, report.retrying) == (3, 0, 0)
    assert report.outcomes == {
        ("product.deletion", "cleared"): 1,
        ("contact.deletion", "cleared"): 1,
        ("deal.deletion", "cleared"): 1,
    }
    product = mirror_row(engine, products, unleashed_guid="p-guid")
    customer = mirror_row(engine, customers, unleashed_guid="c-guid")
    order = mirror_row(engine, orders, unleashed_guid="o-guid")
    assert (product["hubspot_id"], product["hubspot_synced_at"]) == (None, None)
    assert (customer["hubspot_id"], customer["hubspot_synced_at"]) == (None, None)
    assert (order["hubspot_deal_id"], order["hubspot_synced_at"]) == (None, None)
    for event_id in ids:
        row = inbox(engine, event_id)
        assert (row["status"], row["processed_at"], row["attempts"]) == ("processed", NOW, 0)

    logs = warnings(recorder)
    assert len(logs) == 3
    assert {(e.source, e.service, e.business_id) for e in logs} == {("ingest", "hubspot", BUSINESS)}
    product_log = next(e for e in logs if e.details["object_type"] == "product")
    assert "501" in product_log.message and "MUSH-1" in product_log.message
    assert "ops sync inventory" in product_log.message


def test_company_deletion_clears_the_customers_company_id(
    engine: Engine, hub: TelemetryHub, recorder: EventRecorder
) -> None:
    seed_mirror(engine)
    with engine.begin() as conn:
        conn.execute(
            update(customers)
            .where(customers.c.unleashed_guid == "c-guid")
            .values(hubspot_company_id="901")
        )
    deliver(engine, event("company.deletion", 901))
    report = run(engine, hub)

    assert report.outcomes == {("company.deletion", "cleared"): 1}
    customer = mirror_row(engine, customers, unleashed_guid="c-guid")
    # The company is gone and the customer is due, so the next customers sync makes the
    # company again and links the contact (kept) to it.
    assert (customer["hubspot_company_id"], customer["hubspot_synced_at"]) == (None, None)
    assert customer["hubspot_id"] == "601"
    [log] = warnings(recorder)
    assert "901" in log.message and "ops sync customers" in log.message


def test_line_item_deletion_clears_it_and_makes_its_order_due(
    engine: Engine, hub: TelemetryHub
) -> None:
    seed_mirror(engine)
    deliver(engine, event("line_item.deletion", 801))
    report = run(engine, hub)

    assert report.outcomes == {("line_item.deletion", "cleared"): 1}
    line = mirror_row(engine, order_lines, order_guid="o-guid", line_number=1)
    order = mirror_row(engine, orders, unleashed_guid="o-guid")
    assert line["hubspot_line_item_id"] is None
    # The deal stays; its order is due so the orders sync sends the line again.
    assert (order["hubspot_deal_id"], order["hubspot_synced_at"]) == ("701", None)


def test_deletion_is_scoped_to_the_business(engine: Engine, hub: TelemetryHub) -> None:
    seed_mirror(engine, business="other")
    deliver(engine, event("product.deletion", 501))  # same id, a different portal
    report = run(engine, hub)

    assert report.outcomes == {("product.deletion", "no_action"): 1}
    assert mirror_row(engine, products, business_id="other")["hubspot_id"] == "501"


def test_property_change_on_an_owned_property_is_drift(
    engine: Engine, hub: TelemetryHub, recorder: EventRecorder
) -> None:
    seed_mirror(engine)
    deliver(
        engine,
        event("deal.propertyChange", 701, propertyName="amount", propertyValue="1"),
        event("contact.propertyChange", 601, propertyName="firstname", propertyValue="Z"),
    )
    report = run(engine, hub)

    assert report.outcomes == {
        ("deal.propertyChange", "drift"): 1,
        ("contact.propertyChange", "drift"): 1,
    }
    logs = warnings(recorder)
    assert len(logs) == 2
    deal_log = next(e for e in logs if e.details["object_type"] == "deal")
    assert deal_log.business_id == BUSINESS
    assert "'amount'" in deal_log.message and "701" in deal_log.message
    assert "Unleashed" in deal_log.message and "overwrites" in deal_log.message
    assert deal_log.details["property"] == "amount"
    # Due again, so an incremental sync really overwrites HubSpot; the id is kept.
    order = mirror_row(engine, orders, unleashed_guid="o-guid")
    assert (order["hubspot_deal_id"], order["hubspot_synced_at"]) == ("701", None)


def test_property_change_on_another_property_does_nothing(
    engine: Engine, hub: TelemetryHub, recorder: EventRecorder
) -> None:
    seed_mirror(engine)
    deliver(engine, event("contact.propertyChange", 601, propertyName="hs_lead_status"))
    report = run(engine, hub)

    assert report.outcomes == {("contact.propertyChange", "no_action"): 1}
    assert warnings(recorder) == []
    customer = mirror_row(engine, customers, unleashed_guid="c-guid")
    assert customer["hubspot_synced_at"] == SYNCED_AT


def test_a_change_before_the_last_sync_is_not_drift(
    engine: Engine, hub: TelemetryHub, recorder: EventRecorder
) -> None:
    # The sync's own writes come back as propertyChange events dated before its stamp.
    seed_mirror(engine)
    echo = event(
        "product.propertyChange",
        501,
        propertyName="price",
        occurred_at=SYNCED_AT - timedelta(seconds=2),
    )
    deliver(engine, echo)
    report = run(engine, hub)

    assert report.outcomes == {("product.propertyChange", "no_action"): 1}
    assert warnings(recorder) == []
    assert mirror_row(engine, products, unleashed_guid="p-guid")["hubspot_synced_at"] == SYNCED_AT


def test_unmanaged_objects_and_other_events_are_processed_without_action(
    engine: Engine, hub: TelemetryHub, recorder: EventRecorder
) -> None:
    seed_mirror(engine)
    ids = deliver(
        engine,
        event("contact.deletion", 999),  # not in the mirror
        event("deal.propertyChange", 998, propertyName="amount"),
        event("contact.creation", 601),
        event("ticket.deletion", 12),  # a type the platform does not mirror
        event("contact.merge", 601),
        event("product.deletion", 501, business=None),  # no business attributed
    )
    report = run(engine, hub)

    assert report.processed == 6
    assert set(report.outcomes.values()) == {1}
    assert {outcome for _, outcome in report.outcomes} == {"no_action"}
    assert {sub for sub, _ in report.outcomes} == {
        "contact.deletion",
        "deal.propertyChange",
        "contact.creation",
        "ticket.deletion",
        "contact.merge",
        "product.deletion",
    }
    assert all(inbox(engine, i)["status"] == "processed" for i in ids)
    assert warnings(recorder) == []
    assert mirror_row(engine, products, unleashed_guid="p-guid")["hubspot_id"] == "501"
    assert mirror_row(engine, customers, unleashed_guid="c-guid")["hubspot_id"] == "601"


@pytest.mark.parametrize(
    ("subscription", "object_id", "extra", "expected"),
    [
        ("contact.deletion", None, {}, "no objectId"),
        ("contactdeletion", 601, {}, "not of the form"),
        (None, 601, {}, "not of the form"),
        ("contact.propertyChange", 601, {}, "no propertyName"),
    ],
)
def test_malformed_events_fail_at_once(
    engine: Engine,
    hub: TelemetryHub,
    recorder: EventRecorder,
    subscription: str | None,
    object_id: int | None,
    extra: dict[str, Any],
    expected: str,
) -> None:
    [event_id] = deliver(engine, event(subscription, object_id, **extra))
    report = run(engine, hub, max_attempts=5)

    assert (report.failed, report.retrying, report.processed) == (1, 0, 0)
    row = inbox(engine, event_id)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert expected in row["error"]
    [log] = [e for e in recorder.logs if e.level == "error"]
    assert log.status == "failed" and expected in log.message


def test_a_handler_error_is_retried_then_failed_and_the_batch_goes_on(
    engine: Engine, hub: TelemetryHub, recorder: EventRecorder
) -> None:
    seed_mirror(engine)
    bad_id, good_id = deliver(engine, event("deal.deletion", 701), event("product.deletion", 501))
    secret = "s3cr3t-token-value"

    def flaky(conn: Connection, row: Mapping[str, Any]) -> EventOutcome:
        if row["event_id"] == bad_id:
            # Its writes must be rolled back with the failure.
            conn.execute(orders.update().values(hubspot_deal_id=None))
            raise RuntimeError(f"mirror broken, token {secret}")
        return handle_event(conn, row)

    redactor = Redactor([secret])
    first = run(engine, hub, max_attempts=3, handler=flaky, redactor=redactor, batch_size=1)
    assert (first.processed, first.retrying, first.failed) == (1, 1, 0)
    assert first.outcomes == {("deal.deletion", "retry"): 1, ("product.deletion", "cleared"): 1}
    assert inbox(engine, good_id)["status"] == "processed"
    row = inbox(engine, bad_id)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["error"].startswith("RuntimeError: mirror broken")
    assert secret not in row["error"]
    assert mirror_row(engine, orders, unleashed_guid="o-guid")["hubspot_deal_id"] == "701"

    second = run(engine, hub, max_attempts=3, handler=flaky, redactor=redactor)
    assert (second.claimed, second.retrying, second.failed) == (1, 1, 0)
    third = run(engine, hub, max_attempts=3, handler=flaky, redactor=redactor)
    assert (third.claimed, third.retrying, third.failed) == (1, 0, 1)
    row = inbox(engine, bad_id)
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert all(secret not in e.message for e in recorder.logs)
    assert [e.status for e in recorder.logs if e.details.get("inbox_id") == row["id"]] == [
        "retry",
        "retry",
        "failed",
    ]

    # A failed event is not pending any more: nothing is left to do.
    assert run(engine, hub, max_attempts=3, handler=flaky).claimed == 0


def test_a_bad_mirror_row_fails_like_any_handler_error(
    engine: Engine, hub: TelemetryHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_mirror(engine)
    [event_id] = deliver(engine, event("product.deletion", 501))

    def broken(*args: object, **kwargs: object) -> str:
        raise KeyError("product_code")

    monkeypatch.setattr("masterops.ingest.hubspot_events._describe", broken)
    report = run(engine, hub, max_attempts=1)

    assert report.failed == 1
    assert inbox(engine, event_id)["status"] == "failed"
    # Rolled back: the id is still there for a later, working run to clear.
    assert mirror_row(engine, products, unleashed_guid="p-guid")["hubspot_id"] == "501"


def test_processing_again_does_nothing_more(
    engine: Engine, hub: TelemetryHub, recorder: EventRecorder
) -> None:
    seed_mirror(engine)
    ids = deliver(engine, event("product.deletion", 501), event("contact.creation", 5))
    assert run(engine, hub).processed == 2
    seen = len(recorder.events)

    again = run(engine, hub)
    assert again == ProcessReport()
    assert len(recorder.events) == seen
    # A redelivery of the same events adds nothing and does not reset them.
    deliver(engine, InboxEvent(**_as_dict(ids[0], engine)))
    assert run(engine, hub).claimed == 0


def _as_dict(event_id: str, engine: Engine) -> dict[str, Any]:
    row = inbox(engine, event_id)
    return {
        "source": row["source"],
        "event_id": row["event_id"],
        "business_id": row["business_id"],
        "subscription_type": row["subscription_type"],
        "object_id": row["object_id"],
        "occurred_at": row["occurred_at"],
        "payload": row["payload_json"],
    }


def test_batches_go_oldest_first_and_cover_everything(engine: Engine, hub: TelemetryHub) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(webhook_inbox),
            [
                {
                    "source": "hubspot",
                    "event_id": f"e{n}",
                    "business_id": BUSINESS,
                    "subscription_type": "contact.creation",
                    "object_id": str(n),
                    "payload_json": {"eventId": n, "objectId": n},
                    # Inserted newest first; same received_at pairs test the id tiebreak.
                    "received_at": base + timedelta(seconds=(7 - n) // 2),
                    "status": "pending",
                    "attempts": 0,
                }
                for n in range(7)
            ],
        )
    order: list[str] = []

    def recording(conn: Connection, row: Mapping[str, Any]) -> EventOutcome:
        order.append(row["event_id"])
        return handle_event(conn, row)

    report = run(engine, hub, batch_size=2, handler=recording)
    assert (report.claimed, report.processed) == (7, 7)
    assert sorted(order) == sorted(f"e{n}" for n in range(7))
    received = [inbox(engine, e)["received_at"] for e in order]
    assert received == sorted(received)


def test_other_sources_are_left_alone(engine: Engine, hub: TelemetryHub) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(webhook_inbox),
            {
                "source": "n8n",
                "event_id": "x1",
                "payload_json": {},
                "status": "pending",
                "attempts": 0,
            },
        )
    assert run(engine, hub).claimed == 0
    assert inbox(engine, "x1")["status"] == "pending"
