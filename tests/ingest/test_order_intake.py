"""Order intake end to end on every backend: a signed order becomes the mirror's order and
lines and a HubSpot deal with line items and links (through the orders sync's code), the
next poll has nothing to do for it, a redelivery storm has one effect, replays change
nothing, and a poison event does not block its batch."""

from __future__ import annotations

import asyncio

from order_intake_helpers import (
    BUSINESS,
    inbox_rows,
    intake_rig,
    make_contact,
    post,
    stored_lines,
    stored_order,
)
from sqlalchemy import Engine

from masterops.observability.events import LogEvent
from masterops.sync.orders_hubspot import deal_stage
from masterops.web.inbox import InboxEvent, store_events


async def test_an_order_becomes_a_deal_with_line_items_and_links(engine: Engine) -> None:
    async with intake_rig(engine) as rig:
        order = rig.order()
        contact_id = make_contact(rig, order.customer.guid, order.customer.code)
        answer = await post(rig, rig.order_json(order))
        assert answer.status_code == 202, answer.text

        # Applied by the receiver's trigger: nothing else ran.
        [event] = inbox_rows(engine)
        assert event["status"] == "processed", event["error"]
        row = stored_order(engine, order.guid)
        assert row is not None
        assert (row["order_number"], row["status"], row["total"]) == (
            order.number,
            order.status,
            order.total,
        )
        lines = stored_lines(engine, order.guid)
        assert [line["line_number"] for line in lines] == [line.line_number for line in order.lines]

        [deal] = rig.deals_of(order.guid)
        assert deal["properties"]["dealname"] == f"{order.number} {order.customer.name}"
        assert deal["properties"]["dealstage"] == deal_stage(order.status)
        assert row["hubspot_deal_id"] == str(deal["id"])
        item_ids = set()
        for line in order.lines:
            item = rig.line_item_of(line.guid)
            assert item is not None
            assert float(item["properties"]["quantity"]) == line.quantity
            item_ids.add(str(item["id"]))
        links = rig.hubspot_sandbox.associated_ids
        assert set(map(str, links(BUSINESS, "deals", deal["id"], "line_items"))) == item_ids
        assert set(map(str, links(BUSINESS, "deals", deal["id"], "contacts"))) == {contact_id}
        logged = [
            e for e in rig.recorder.events if isinstance(e, LogEvent) and e.status == "applied"
        ]
        assert len(logged) == 1 and order.number in logged[0].message


async def test_after_intake_the_next_poll_writes_nothing_to_hubspot_for_it(
    engine: Engine,
) -> None:
    async with intake_rig(engine) as rig:
        first = await rig.poll(full=True)  # the platform is in step with Unleashed
        assert first.ok and first.counts["deals_upserted"] > 0
        order = rig.open_order()
        before = rig.deal_of(order.guid)
        assert before is not None and before["properties"]["dealstage"] != "closedwon"

        # The order changes in Unleashed, and its sender pushes it at once.
        changed = rig.unleashed_sandbox.complete_order(BUSINESS, order.guid)
        rig.hubspot_writes()
        answer = await post(rig, rig.order_json(changed))
        assert answer.status_code == 202
        assert rig.deal_of(order.guid)["properties"]["dealstage"] == "closedwon"  # type: ignore[index]
        assert rig.hubspot_writes(), "the intake wrote the change to HubSpot"

        # The poll reads the changed order again and has nothing left to do.
        poll = await rig.poll()
        assert poll.ok, poll.to_dict()
        assert poll.counts["orders_fetched"] >= 1, "the incremental poll re-read the changed order"
        assert (
            poll.counts["deals_upserted"],
            poll.counts["line_items_upserted"],
            poll.counts["associations_created"],
        ) == (
            0,
            0,
            0,
        )
        assert rig.hubspot_writes() == {}
        assert len(rig.deals_of(order.guid)) == 1


async def test_a_redelivery_storm_has_one_effect(engine: Engine) -> None:
    async with intake_rig(engine) as rig:
        order = rig.order(2)
        payload = rig.order_json(order)
        answers = await asyncio.gather(*(post(rig, payload) for _ in range(16)))
        assert [a.status_code for a in answers] == [202] * 16
        assert sorted(a.json()["new"] for a in answers) == [0] * 15 + [1]
        assert len({a.json()["event_id"] for a in answers}) == 1
        # Processors racing on top of the receiver's own: still one of everything.
        reports = await asyncio.gather(*(rig.process() for _ in range(4)))
        assert sum(r.processed for r in reports) == 0
        [event] = inbox_rows(engine)
        assert event["status"] == "processed" and event["attempts"] == 0
        assert len(rig.deals_of(order.guid)) == 1
        for line in order.lines:
            items = [
                i
                for i in rig.hubspot_sandbox.records(BUSINESS, "line_items")
                if i["properties"].get("unleashed_line_guid") == line.guid.lower()
            ]
            assert len(items) == 1


async def test_replaying_a_delivery_changes_nothing(engine: Engine) -> None:
    async with intake_rig(engine) as rig:
        order = rig.order()
        payload = rig.order_json(order)
        assert (await post(rig, payload)).status_code == 202
        row = stored_order(engine, order.guid)
        assert row is not None and row["hubspot_synced_at"] is not None
        rig.hubspot_writes()

        # A late redelivery past the receiver (the same event), then the same event again
        # put back to pending and processed (what `ops events replay` does).
        assert (await post(rig, payload)).json()["new"] == 0
        from masterops.ingest.event_log import mark_for_replay

        for _ in range(2):
            with engine.begin() as conn:
                assert mark_for_replay(conn, [inbox_rows(engine)[0]["id"]]) == 1
            report = await rig.process()
            assert (report.processed, report.failed, report.retrying) == (1, 0, 0)
            assert stored_order(engine, order.guid) == row
            assert rig.hubspot_writes() == {}
        assert len(rig.deals_of(order.guid)) == 1


async def test_an_older_version_never_takes_the_order_back(engine: Engine) -> None:
    async with intake_rig(engine) as rig:
        order = rig.open_order()
        old = rig.order_json(order)
        changed = rig.order_json(rig.unleashed_sandbox.complete_order(BUSINESS, order.guid))
        assert (await post(rig, changed)).status_code == 202
        assert (await post(rig, old)).status_code == 202  # delivered late
        assert [r["status"] for r in inbox_rows(engine)] == ["processed", "processed"]
        assert stored_order(engine, order.guid)["status"] == "Completed"  # type: ignore[index]
        assert rig.deal_of(order.guid)["properties"]["dealstage"] == "closedwon"  # type: ignore[index]
        stale = [e for e in rig.recorder.events if getattr(e, "status", None) == "stale"]
        assert len(stale) == 1


async def test_a_poison_event_does_not_block_its_batch(engine: Engine) -> None:
    async with intake_rig(engine, inline=False) as rig:
        first, poisoned, last = rig.order(0), rig.order(1), rig.order(2)
        assert (await post(rig, rig.order_json(first))).status_code == 202
        nul = await post(rig, {**rig.order_json(poisoned), "Comments": "rush\u0000order"})
        assert nul.status_code == 202
        assert nul.json()["status"] == "failed" and "NUL" in nul.json()["reason"]
        # An event no receiver would store (not an order), straight into the inbox.
        store_events(
            engine,
            [
                InboxEvent(
                    source="orders",
                    event_id=f"{BUSINESS}:broken",
                    business_id=BUSINESS,
                    subscription_type="sales_order",
                    object_id=None,
                    occurred_at=None,
                    payload={"OrderNumber": "SO-BROKEN"},
                )
            ],
        )
        assert (await post(rig, rig.order_json(last))).status_code == 202

        report = await rig.process()
        assert (report.claimed, report.processed, report.failed) == (3, 2, 1)
        by_number = {r["payload_json"].get("OrderNumber"): r for r in inbox_rows(engine)}
        assert by_number[first.number]["status"] == "processed"
        assert by_number[last.number]["status"] == "processed"
        assert by_number[poisoned.number]["status"] == "failed"
        assert "NUL" in by_number[poisoned.number]["error"]
        assert "\u0000" not in str(by_number[poisoned.number]["payload_json"])
        assert by_number["SO-BROKEN"]["status"] == "failed"
        assert "Guid" in by_number["SO-BROKEN"]["error"]
        assert len(rig.deals_of(first.guid)) == len(rig.deals_of(last.guid)) == 1
        assert rig.deals_of(poisoned.guid) == [] and stored_order(engine, poisoned.guid) is None
