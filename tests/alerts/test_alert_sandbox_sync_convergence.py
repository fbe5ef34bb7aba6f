"""A convergence test per rule that reads what the syncs and the order webhook left,
driven through the sandbox: a sync that fails on Unleashed's 5xx, an orders sync whose
links HubSpot refuses, data that goes stale, and signed order webhooks whose HubSpot push
fails until they give up. Each time exactly one alert arrives per channel (the log,
Slack, email), then exactly one recovery, and a further evaluation says nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sandbox_rig import Rig, sandbox_rig
from sqlalchemy import Engine, select

from masterops.db.tables import sync_runs, webhook_inbox
from masterops.operations.order_intake import process_orders
from masterops.operations.sync import run_sync
from masterops.web import WebSettings, create_app
from masterops.web.orders_webhook import order_signature

BUSINESS = "teelixir"
ORDER_SECRET = "teelixir-order-secret-for-alerts"


async def _sync(rig: Rig, entity: Any) -> dict[str, Any]:
    """Run one sync of the business on the sandbox; its sync_runs row."""
    business = rig.services.config.businesses[BUSINESS]
    await run_sync(entity, rig.services, rig.engine, [business])
    with rig.engine.connect() as conn:
        row = conn.execute(
            select(sync_runs)
            .where(sync_runs.c.business_id == BUSINESS, sync_runs.c.entity == entity)
            .order_by(sync_runs.c.id.desc())
            .limit(1)
        ).one()
    return dict(row._mapping)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite drops the zone


def _bodies(rig: Rig, subject: str) -> list[str]:
    return [str(m.get_content()) for m in rig.mail if f"/{subject} " in str(m["Subject"])]


async def test_a_sync_failing_on_unleashed_alerts_once_then_recovers_once(
    engine: Engine, tmp_path: Path
) -> None:
    subject = "sync:inventory"
    with sandbox_rig(engine, tmp_path) as rig:
        now = datetime.now(UTC)
        first = await _sync(rig, "inventory")
        assert first["status"] == "succeeded"
        await rig.evaluate(now)
        assert rig.counts(subject) == (0, 0, 0)
        rig.sandbox.harness("unleashed").faults.configure(rate_5xx=1.0)
        failed = await _sync(rig, "inventory")
        assert failed["status"] == "failed"
        await rig.evaluate(now + timedelta(minutes=15))
        await rig.evaluate(now + timedelta(minutes=16))  # a repeat says nothing
        assert rig.counts(subject) == (1, 1, 1)
        rig.sandbox.harness("unleashed").faults.reset()
        again = await _sync(rig, "inventory")
        assert again["status"] == "succeeded"
        await rig.evaluate(now + timedelta(minutes=30))
        await rig.evaluate(now + timedelta(minutes=31))
        assert rig.counts(subject) == (2, 2, 2)
        assert rig.texts(subject) == [
            f"{BUSINESS}/{subject} is DOWN",
            f"{BUSINESS}/{subject} recovered: healthy (was down)",
        ]
        [problem, _] = _bodies(rig, subject)
        assert "the inventory sync failed:" in problem
        assert failed["error_message"] and failed["error_message"] in problem


async def test_links_hubspot_refuses_alert_once_then_recover_once(
    engine: Engine, tmp_path: Path
) -> None:
    subject = "sync:orders"
    with sandbox_rig(engine, tmp_path) as rig:
        before_customers = rig.sandbox.to_state("hubspot")
        assert (await _sync(rig, "customers"))["status"] == "succeeded"
        with_contacts = rig.sandbox.to_state("hubspot")
        now = datetime.now(UTC)
        await rig.evaluate(now)
        # HubSpot forgets the contacts and companies (as after a sandbox reset); the
        # database still names them, so the orders sync's links to them are refused.
        rig.sandbox.load_state("hubspot", before_customers)
        refused = await _sync(rig, "orders")
        assert (refused["status"], refused["failed"] > 0) == ("succeeded", True)
        await rig.evaluate(now + timedelta(minutes=15))
        await rig.evaluate(now + timedelta(minutes=16))
        assert rig.counts(subject) == (1, 1, 1)
        # HubSpot has them again: the next run resends what was refused, and it goes through.
        rig.sandbox.load_state("hubspot", with_contacts)
        mended = await _sync(rig, "orders")
        assert (mended["status"], mended["failed"]) == ("succeeded", 0)
        await rig.evaluate(now + timedelta(minutes=30))
        await rig.evaluate(now + timedelta(minutes=31))
        assert rig.counts(subject) == (2, 2, 2)
        assert rig.texts(subject) == [
            f"{BUSINESS}/{subject} is DEGRADED",
            f"{BUSINESS}/{subject} recovered: healthy (was degraded)",
        ]
        [problem, _] = _bodies(rig, subject)
        assert f"the orders sync finished, but {refused['failed']} item(s) were refused" in (
            problem
        )


async def test_data_not_synced_for_three_schedules_alerts_once_then_recovers_once(
    engine: Engine, tmp_path: Path
) -> None:
    subject = "stale:inventory"
    with sandbox_rig(engine, tmp_path) as rig:
        schedule = timedelta(seconds=rig.services.config.schedules.inventory_seconds)
        limit = schedule * rig.services.config.alerts.stale_after_schedules
        assert limit == timedelta(minutes=45)
        first = await _sync(rig, "inventory")
        synced_at = _aware(first["finished_at"])
        await rig.evaluate(synced_at)
        await rig.evaluate(synced_at + limit)  # exactly three schedules: still fresh
        assert rig.counts(subject) == (0, 0, 0)
        # The evaluation's clock moves past the limit; the run's timestamps are the machine's.
        late = synced_at + limit + timedelta(milliseconds=1)
        await rig.evaluate(late)
        await rig.evaluate(late)  # a repeat says nothing
        assert rig.counts(subject) == (1, 1, 1)
        # The next run must finish after ``late - limit`` on the machine's clock; wait
        # that millisecond out (and some) rather than rely on the run's own duration.
        left = synced_at + timedelta(milliseconds=1) - datetime.now(UTC)
        await asyncio.sleep(max(0.0, left.total_seconds()) + 0.01)
        second = await _sync(rig, "inventory")
        assert second["status"] == "succeeded"
        resynced_at = _aware(second["finished_at"])
        assert resynced_at + limit >= late  # the evaluation's clock never goes back
        await rig.evaluate(resynced_at + limit)
        await rig.evaluate(resynced_at + limit)
        assert rig.counts(subject) == (2, 2, 2)
        assert rig.texts(subject) == [
            f"{BUSINESS}/{subject} is DEGRADED",
            f"{BUSINESS}/{subject} recovered: healthy (was degraded)",
        ]
        [problem, _] = _bodies(rig, subject)
        assert f"no successful inventory sync since {synced_at:%Y-%m-%d %H:%M} UTC" in problem


async def _post_order(client: httpx.AsyncClient, order: dict[str, Any]) -> None:
    raw = json.dumps(order).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-MasterOps-Timestamp": stamp,
        "X-MasterOps-Signature": order_signature(ORDER_SECRET, stamp, raw),
    }
    answer = await client.post(f"/webhooks/orders/{BUSINESS}", content=raw, headers=headers)
    assert answer.status_code == 202, answer.text


def _inbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(webhook_inbox).order_by(webhook_inbox.c.id))
        return [dict(r._mapping) for r in rows]


def _statuses(rows: Sequence[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["status"], r["attempts"]) for r in rows]


async def test_order_webhooks_that_give_up_alert_once_then_recover_once(
    engine: Engine, tmp_path: Path
) -> None:
    subject = "webhooks:orders"
    max_attempts = 3
    with sandbox_rig(engine, tmp_path) as rig:
        window = timedelta(seconds=rig.services.config.alerts.webhook_failed_window_s)
        sandbox_orders = [
            rig.sandbox.unleashed_api.to_json(o)
            for o in rig.sandbox.unleashed_api.orders(BUSINESS)
            if o.status != "Deleted"
        ]
        # The receiver only stores; the operation (as the webhooks job) applies them.
        app = create_app(engine, WebSettings(order_webhook_secrets={BUSINESS: ORDER_SECRET}))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://ops.test") as client:

            async def process() -> None:
                await process_orders(
                    engine, rig.hub, rig.services, business_id=BUSINESS, max_attempts=max_attempts
                )

            await _post_order(client, sandbox_orders[0])
            await process()
            assert _statuses(_inbox(engine)) == [("processed", 0)]
            now = datetime.now(UTC)
            await rig.evaluate(now)
            assert rig.counts(subject) == (0, 0, 0)

            rig.sandbox.harness("hubspot").faults.configure(rate_5xx=1.0)
            await _post_order(client, sandbox_orders[1])
            for attempt in range(1, max_attempts):
                await process()
                assert _statuses(_inbox(engine))[1] == ("pending", attempt)
                await rig.evaluate(now + timedelta(seconds=attempt))  # retrying: no alert
            assert rig.counts(subject) == (0, 0, 0)
            await process()
            gave_up = _inbox(engine)[1]
            assert _statuses([gave_up]) == [("failed", max_attempts)]
            assert "HTTP 503" in gave_up["error"]
            await rig.evaluate(now + timedelta(minutes=1))
            await rig.evaluate(now + timedelta(minutes=2))  # a repeat says nothing
            assert rig.counts(subject) == (1, 1, 1)

            # HubSpot answers again and the next order goes through; the rule counts what
            # gave up within its window, so the alert stands until the window has passed.
            rig.sandbox.harness("hubspot").faults.reset()
            await _post_order(client, sandbox_orders[2])
            await process()
            assert _statuses(_inbox(engine))[2] == ("processed", 0)
            await rig.evaluate(now + timedelta(minutes=3))
            assert rig.counts(subject) == (1, 1, 1)
        received = _aware(gave_up["received_at"])
        await rig.evaluate(received + window + timedelta(seconds=1))
        await rig.evaluate(received + window + timedelta(minutes=1))
        assert rig.counts(subject) == (2, 2, 2)
        assert rig.texts(subject) == [
            f"{BUSINESS}/{subject} is DEGRADED",
            f"{BUSINESS}/{subject} recovered: healthy (was degraded)",
        ]
        [problem, _] = _bodies(rig, subject)
        assert "1 orders webhook event(s) gave up after their retries" in problem
