"""Why a sync failed is kept in the database (issue #10 point 6): every item HubSpot
refuses becomes a ``sync_refusals`` row of its run, with its kind, key, category, status
and reason (redacted, one line, bounded); recording never fails the run, and pruning a run
deletes its refusals."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from customers_helpers import sendable
from inventory_helpers import BUSINESS, InventoryRig, inventory_rig
from orders_helpers import dealt_orders, make_contacts
from sqlalchemy import Engine, func, insert, select, text, update

from masterops.db.queries import prune
from masterops.db.tables import customers, sync_refusals, sync_runs
from masterops.sync.customers import sync_customers
from masterops.sync.orders import sync_orders
from masterops.sync.refusals import (
    REASON_LIMIT,
    Refusal,
    record_refusals,
    recording_refusals,
    run_refusals,
    top_reasons,
)

MISSING_CONTACT = "999999"


def refusal_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(sync_refusals).order_by(sync_refusals.c.id))
        return [dict(r._mapping) for r in rows]


def point_a_customer_at_a_missing_contact(rig: InventoryRig, engine: Engine) -> int:
    """Every customer a contact, but one customer's contact id names no HubSpot contact
    (the state after a sandbox reset, issue #10). Returns how many deals must link to it."""
    make_contacts(rig, engine)
    dealt = [o for o in dealt_orders(rig) if not o.customer.obsolete]
    counts = Counter(o.customer.guid.lower() for o in dealt)
    guid, orders_of_it = counts.most_common(1)[0]
    with engine.begin() as conn:
        conn.execute(
            update(customers)
            .where(customers.c.unleashed_guid == guid)
            .values(hubspot_id=MISSING_CONTACT)
        )
    return orders_of_it


async def test_refused_links_are_stored_with_their_run_and_grouped_by_reason(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        linked_to_missing = point_a_customer_at_a_missing_contact(rig, engine)

        result = await sync_orders(
            rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot()
        )

        assert result.status == "succeeded" and result.failed == linked_to_missing > 0
        rows = refusal_rows(engine)
        assert len(rows) == result.failed
        assert {r["run_id"] for r in rows} == {result.run_id}
        assert {(r["business_id"], r["entity"]) for r in rows} == {(BUSINESS, "orders")}
        assert {r["item_kind"] for r in rows} == {"association"}
        assert {(r["category"], r["status_code"]) for r in rows} == {("NOT_FOUND", 404)}
        assert {r["reason"] for r in rows} == {f"Contact {MISSING_CONTACT} does not exist."}
        numbers = {o.number for o in dealt_orders(rig)}
        assert all(r["item_key"].split(":")[0] in numbers for r in rows)
        assert all(f"-> {MISSING_CONTACT}" in r["item_key"] for r in rows)
        with engine.connect() as conn:
            assert top_reasons(conn, [result.run_id]) == {
                result.run_id: [
                    {"reason": f"Contact {MISSING_CONTACT} does not exist.", "count": len(rows)}
                ]
            }
            assert len(run_refusals(conn, result.run_id, limit=2)) == 2


async def test_refused_contacts_name_their_customer_code_category_and_status(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        hubspot = rig.hubspot()
        token = rig.account.hubspot_token
        # A 400 refuses the whole batch; its message quotes the token, which must not stay.
        rig.hubspot_sandbox.fail_next(
            400,
            path_contains="/contacts/batch/upsert",
            message=f"Property values were not valid (token {token})",
        )

        first = await sync_customers(rig.unleashed(), engine, business_id=BUSINESS, hubspot=hubspot)

        assert first.failed > 0
        rows = refusal_rows(engine)
        assert len(rows) == first.failed
        assert {r["run_id"] for r in rows} == {first.run_id}
        assert {(r["item_kind"], r["category"], r["status_code"]) for r in rows} == {
            ("contact", "VALIDATION", 400)
        }
        codes = {c.code for c in sendable(rig)}
        assert {r["item_key"] for r in rows} <= codes
        assert all(token not in r["reason"] for r in rows)
        assert all(r["reason"].startswith("Property values were not valid") for r in rows)

        second = await sync_customers(
            rig.unleashed(), engine, business_id=BUSINESS, hubspot=hubspot
        )

        # The next run refused nothing: its reasons are empty, the first run's stay.
        assert second.failed == 0
        assert {r["run_id"] for r in refusal_rows(engine)} == {first.run_id}


async def test_a_run_whose_refusals_cannot_be_stored_still_succeeds(engine: Engine) -> None:
    async with inventory_rig() as rig:
        linked_to_missing = point_a_customer_at_a_missing_contact(rig, engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE sync_refusals"))

        result = await sync_orders(
            rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot()
        )

        assert result.status == "succeeded" and result.failed == linked_to_missing
        warnings = [e for e in rig.recorder.logs if e.service == "hubspot" and e.level == "warn"]
        assert sum(e.details["failed"] for e in warnings) == linked_to_missing
        assert all(
            e.details["unstored"].startswith("the reasons could not be stored") for e in warnings
        )


def _run(engine: Engine, started_at: datetime) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                insert(sync_runs)
                .values(
                    business_id=BUSINESS,
                    entity="orders",
                    status="succeeded",
                    full=False,
                    fetched=1,
                    written=1,
                    failed=1,
                    started_at=started_at,
                    finished_at=started_at,
                )
                .returning(sync_runs.c.id)
            ).scalar_one()
        )


def test_reasons_are_one_bounded_line_and_nothing_is_written_outside_a_run(
    engine: Engine,
) -> None:
    run_id = _run(engine, datetime.now(UTC))
    odd = Refusal(
        what="contact",
        key="C\x00001",
        category="VALIDATION",
        status_code=400,
        reason="bad\nvalue\x00" + "x" * 2000,
    )

    assert record_refusals(BUSINESS, [odd], redact=str) is None  # no run: nothing kept
    assert refusal_rows(engine) == []
    with recording_refusals(engine, run_id, "customers"):
        assert record_refusals(BUSINESS, [odd], redact=lambda s: s.replace("value", "***")) is None

    [row] = refusal_rows(engine)
    assert row["item_key"] == "C\ufffd001"
    assert row["reason"].startswith("bad\ufffd***\ufffdxxx")
    assert len(row["reason"]) == REASON_LIMIT and row["reason"].endswith("\u2026")
    assert row["entity"] == "customers" and row["run_id"] == run_id


def test_recording_into_a_run_that_is_gone_says_so_instead_of_raising(engine: Engine) -> None:
    with recording_refusals(engine, 424242, "orders"):
        refused = [
            Refusal(what="deal", key="SO-1", category=None, status_code=None, reason="no result")
        ]
        problem = record_refusals(BUSINESS, refused, redact=str)

    assert problem is not None and problem.startswith("the reasons could not be stored")
    assert refusal_rows(engine) == []


def test_pruning_a_run_deletes_its_refusals(engine: Engine) -> None:
    now = datetime.now(UTC)
    old, recent = _run(engine, now - timedelta(days=40)), _run(engine, now)
    for run_id in (old, recent):
        with recording_refusals(engine, run_id, "orders"):
            record_refusals(
                BUSINESS,
                [Refusal(what="deal", key="SO-1", category=None, status_code=None, reason="x")] * 3,
                redact=str,
            )

    with engine.begin() as conn:
        deleted = prune(conn, now - timedelta(days=30), ["sync_runs"])

    assert deleted == {"sync_runs": 1}
    assert [r["run_id"] for r in refusal_rows(engine)] == [recent] * 3
    with engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(sync_refusals)).scalar_one()
    assert left == 3
