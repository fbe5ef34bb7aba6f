"""Group commit of the webhook inbox: deliveries of concurrent requests share one
transaction, each answered only after it commits; a failed transaction stores none of its
batch and fails every request in it; stopping the app stores what is still queued."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import SQLAlchemyError
from web_helpers import HOOK_URL, Web, inbox_event

from masterops.db.tables import webhook_inbox
from masterops.web.group_commit import GroupCommit
from masterops.web.inbox import InboxEvent
from masterops_sandbox.hubspot import sign_v3


def _stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        stmt = select(webhook_inbox.c.event_id).order_by(webhook_inbox.c.event_id)
        return [str(r) for r in conn.scalars(stmt)]


def _refuse_event(engine: Engine, event_id: str) -> None:
    """A trigger that makes the database fail any insert of ``event_id``: a real failure
    in the middle of the transaction, after the rows before it were written."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_event BEFORE INSERT ON webhook_inbox "
                    f"WHEN NEW.event_id = '{event_id}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_event() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.event_id = '{event_id}' THEN "
                    "RAISE EXCEPTION 'refused by the test trigger'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_event BEFORE INSERT ON webhook_inbox "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_event()"
                )
            )


async def test_concurrent_deliveries_share_one_transaction_and_count_new_exactly(
    engine: Engine,
) -> None:
    writer = GroupCommit(engine)
    # 24 deliveries: 8 distinct, each sent three times at once, overlapping their neighbours.
    deliveries = [[inbox_event(f"e{n}"), inbox_event(f"e{n + 1}")] for n in range(8)] * 3
    results = await asyncio.gather(*(writer.store(d) for d in deliveries))
    assert writer.batches == 1  # all were queued before the writer ran
    assert [r.received for r in results] == [2] * 24
    assert sum(r.new for r in results) == 9
    # Each event is new for the first delivery that holds it, and for no other.
    assert [r.new for r in results[:8]] == [2] + [1] * 7
    assert all(r.new == 0 for r in results[8:])
    assert _stored(engine) == sorted(f"e{n}" for n in range(9))

    # Delivered again later: nothing new, nothing duplicated.
    again = await asyncio.gather(*(writer.store(d) for d in deliveries[:8]))
    assert sum(r.new for r in again) == 0
    assert len(_stored(engine)) == 9


async def test_a_failed_transaction_fails_its_whole_batch_and_stores_none_of_it(
    engine: Engine,
) -> None:
    writer = GroupCommit(engine)
    _refuse_event(engine, "boom")
    batch = [
        [inbox_event("a1"), inbox_event("a2")],
        [inbox_event("b1"), inbox_event("boom")],
        [inbox_event("c1")],
    ]
    results = await asyncio.gather(*(writer.store(d) for d in batch), return_exceptions=True)
    assert writer.batches == 1
    assert all(isinstance(r, SQLAlchemyError) for r in results), results
    assert _stored(engine) == []  # a1, a2 were written before boom failed: rolled back
    # The writer carries on: the next batch without the poison is stored.
    after = await asyncio.gather(*(writer.store(d) for d in (batch[0], batch[2])))
    assert [r.new for r in after] == [2, 1]
    assert _stored(engine) == ["a1", "a2", "c1"]


async def test_a_batch_larger_than_the_limit_is_split_into_transactions(engine: Engine) -> None:
    writer = GroupCommit(engine, max_batch_events=4)
    deliveries = [[inbox_event(f"d{n}-{i}") for i in range(3)] for n in range(5)]
    results = await asyncio.gather(*(writer.store(d) for d in deliveries))
    assert writer.batches == 5  # 3 + 3 > 4: one delivery per transaction, never split
    assert [r.new for r in results] == [3] * 5
    assert len(_stored(engine)) == 15


async def test_drain_stores_everything_queued(engine: Engine) -> None:
    writer = GroupCommit(engine)
    tasks = [asyncio.create_task(writer.store([inbox_event(f"q{n}")])) for n in range(10)]
    await asyncio.sleep(0)  # the tasks queue their events
    await writer.drain()
    assert all(t.done() for t in tasks)
    assert len(_stored(engine)) == 10
    await writer.drain()  # nothing queued: returns at once


def _signed(web: Web, events: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(events).encode()
    timestamp = int(time.time() * 1000)
    secret = web.accounts["teelixir"].hubspot_client_secret
    return body, {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", HOOK_URL, body, timestamp),
        "X-HubSpot-Request-Timestamp": str(timestamp),
    }


def _hubspot_event(web: Web, event_id: str) -> dict[str, Any]:
    portal = web.accounts["teelixir"].hubspot_portal_id
    return {"eventId": event_id, "portalId": portal, "subscriptionType": "contact.creation"}


async def test_concurrent_http_deliveries_are_each_answered_after_their_commit(web: Web) -> None:
    signed = [_signed(web, [_hubspot_event(web, f"h{n}-{i}") for i in range(3)]) for n in range(16)]
    answers = await asyncio.gather(
        *(web.client.post(HOOK_URL, content=b, headers=h) for b, h in signed)
    )
    assert [a.json() for a in answers] == [{"received": 3, "new": 3}] * 16
    assert len(_stored(web.engine)) == 48
    assert web.app.state.inbox_writer.batches < 16  # they shared transactions


async def test_a_storage_failure_answers_503_to_the_batch_and_stores_none_of_it(web: Web) -> None:
    _refuse_event(web.engine, "boom")
    poisoned = _signed(web, [_hubspot_event(web, "p1"), _hubspot_event(web, "boom")])
    others = [_signed(web, [_hubspot_event(web, f"o{n}")]) for n in range(8)]
    answers = await asyncio.gather(
        *(web.client.post(HOOK_URL, content=b, headers=h) for b, h in [poisoned, *others])
    )
    assert answers[0].status_code == 503
    assert answers[0].json()["error"] == "storage_unavailable"
    stored = set(_stored(web.engine))
    assert "p1" not in stored
    # Every other delivery is either stored whole and answered 200, or (it shared the
    # poisoned transaction) refused with 503 and not stored at all, for HubSpot to retry.
    for n, answer in enumerate(answers[1:]):
        assert answer.status_code in (200, 503)
        assert (f"o{n}" in stored) == (answer.status_code == 200)


async def test_stopping_the_app_stores_what_is_still_queued(web: Web) -> None:
    queued = 12
    writer: GroupCommit = web.app.state.inbox_writer
    async with web.app.router.lifespan_context(web.app):
        tasks = [asyncio.create_task(writer.store([inbox_event(f"s{n}")])) for n in range(queued)]
        await asyncio.sleep(0)  # queued, not yet written
        assert not any(t.done() for t in tasks)
    # The lifespan's shutdown returned only once the queue was stored.
    assert all(t.done() and t.result().new == 1 for t in tasks)
    assert len(_stored(web.engine)) == queued


async def test_after_a_commit_the_writer_lingers_for_the_senders_it_answered(
    engine: Engine,
) -> None:
    # A long linger, so only the deliveries arriving can end it (never the clock).
    writer = GroupCommit(engine, linger_s=3600, max_in_flight=1)
    first = [asyncio.create_task(writer.store([inbox_event(f"f{n}")])) for n in range(3)]
    await asyncio.sleep(0)  # the three are queued and their transaction has started
    late = asyncio.create_task(writer.store([inbox_event("l0")]))
    await asyncio.gather(*first)
    # One delivery queued, three in the last batch: the writer waits for two more...
    await asyncio.sleep(0.05)
    assert not late.done() and writer.batches == 1
    more = [asyncio.create_task(writer.store([inbox_event(f"l{n}")])) for n in (1, 2)]
    # ...and commits as soon as they are there, all three in one transaction.
    results = await asyncio.wait_for(asyncio.gather(late, *more), timeout=60)
    assert [r.new for r in results] == [1, 1, 1]
    assert writer.batches == 2
    assert len(_stored(engine)) == 6


async def test_the_linger_is_bounded_and_an_idle_writer_commits_at_once(engine: Engine) -> None:
    writer = GroupCommit(engine, linger_s=0.01, max_in_flight=1)
    first = [asyncio.create_task(writer.store([inbox_event(f"a{n}")])) for n in range(3)]
    await asyncio.sleep(0)
    alone = asyncio.create_task(writer.store([inbox_event("b0")]))
    await asyncio.gather(*first)
    # Nobody else comes: the lone delivery is committed once the linger has passed.
    assert (await asyncio.wait_for(alone, timeout=60)).new == 1
    assert writer.batches == 2
    # After a pause the first delivery does not wait at all, however long the linger.
    writer.linger_s = 3600
    await writer.drain()
    assert (await asyncio.wait_for(writer.store([inbox_event("c0")]), timeout=60)).new == 1
    assert writer.batches == 3


async def test_stored_rows_hold_exactly_what_the_column_types_read_back(engine: Engine) -> None:
    """The inbox insert converts values itself (not through SQLAlchemy's bind
    processing): each column must read back as the event had it, on every backend."""
    occurred = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    rich = InboxEvent(
        source="hubspot",
        event_id="rich",
        business_id="teelixir",
        subscription_type="contact.propertyChange",
        object_id="77",
        occurred_at=occurred,
        payload={"eventId": "rich", "name": 'Zoë \u2603 "quoted" \\ back', "n": [1, 2.5, None]},
    )
    bare = InboxEvent("orders", "teelixir:bare", None, None, None, None, {}, error="held a NUL")
    before = datetime.now(UTC)
    result = await GroupCommit(engine).store([rich, bare])
    assert (result.received, result.new) == (2, 2)
    with engine.connect() as conn:
        rows = {
            r.event_id: r._mapping
            for r in conn.execute(select(webhook_inbox).order_by(webhook_inbox.c.event_id))
        }
    got = rows["rich"]
    assert got["occurred_at"] == occurred
    assert got["payload_json"] == rich.payload
    assert (got["status"], got["attempts"], got["error"]) == ("pending", 0, None)
    assert (got["business_id"], got["subscription_type"], got["object_id"]) == (
        "teelixir",
        "contact.propertyChange",
        "77",
    )
    assert before - timedelta(seconds=1) <= got["received_at"] <= datetime.now(UTC)
    parked = rows["teelixir:bare"]
    assert (parked["status"], parked["error"], parked["occurred_at"]) == (
        "failed",
        "held a NUL",
        None,
    )
    assert parked["payload_json"] == {} and parked["business_id"] is None


async def test_a_batch_of_more_rows_than_one_statement_holds_counts_new_exactly(
    engine: Engine,
) -> None:
    writer = GroupCommit(engine)
    await writer.store([inbox_event(f"big{n}") for n in range(0, 1300, 7)])  # some known already
    results = await asyncio.gather(
        writer.store([inbox_event(f"big{n}") for n in range(700)]),
        writer.store([inbox_event(f"big{n}") for n in range(600, 1300)]),
    )
    assert [r.received for r in results] == [700, 700]
    known = len(range(0, 1300, 7))
    assert sum(r.new for r in results) == 1300 - known
    assert results[1].new == len([n for n in range(700, 1300) if n % 7])
    assert len(_stored(engine)) == 1300


def _hold_new_event(engine: Engine, event_id: str) -> Connection:
    """An open transaction that has inserted ``event_id``: a writer storing the same event
    waits for it (PostgreSQL: on that key; SQLite: on the one write lock)."""
    conn = engine.connect()
    conn.execute(
        webhook_inbox.insert().values(
            source="hubspot",
            event_id=event_id,
            payload_json={},
            received_at=datetime.now(UTC),
            status="pending",
            attempts=0,
        )
    )
    return conn


async def test_a_delivery_waits_for_a_transaction_in_flight_only_on_sqlite(
    engine: Engine,
) -> None:
    writer = GroupCommit(engine)
    holder = _hold_new_event(engine, "held")
    try:
        first = asyncio.create_task(writer.store([inbox_event("held")]))
        await asyncio.sleep(0.05)  # its transaction has started, and waits on the holder
        second = asyncio.create_task(writer.store([inbox_event("free")]))
        if engine.dialect.name == "postgresql":
            # Several transactions in flight: the next one commits meanwhile.
            assert (await asyncio.wait_for(second, timeout=60)).new == 1
            assert not first.done()
        else:
            # One writer at a time: the next transaction starts after the first.
            await asyncio.sleep(0.2)
            assert not first.done() and not second.done()
    finally:
        holder.rollback()
        holder.close()
    results = await asyncio.wait_for(asyncio.gather(first, second), timeout=60)
    assert [r.new for r in results] == [1, 1]
    assert _stored(engine) == ["free", "held"]


async def test_concurrent_transactions_with_the_same_new_events_all_commit(
    engine: Engine,
) -> None:
    # One delivery per transaction, several in flight at once on PostgreSQL, each holding
    # the same new events in another order: they must neither deadlock nor count twice.
    writer = GroupCommit(engine, max_batch_events=40)
    ids = [f"k{n:02d}" for n in range(40)]
    orders = [ids, ids[::-1], ids[20:] + ids[:20]]
    # Held until all three have written what they can: their transactions overlap.
    holder = _hold_new_event(engine, "k20")
    try:
        stores = [asyncio.create_task(writer.store([inbox_event(i) for i in o])) for o in orders]
        await asyncio.sleep(0.2)
    finally:
        holder.rollback()
        holder.close()
    results = await asyncio.wait_for(asyncio.gather(*stores), timeout=60)
    assert writer.batches == 3
    assert [r.received for r in results] == [40] * 3
    assert sum(r.new for r in results) == 40
    assert _stored(engine) == sorted(ids)
