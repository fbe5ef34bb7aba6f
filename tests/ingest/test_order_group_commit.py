"""The order receiver stores through the same group commit as the HubSpot receiver:
concurrent deliveries (of either receiver) share transactions, each answered once its
own has committed; a redelivery storm makes one row, a NUL-byte order is parked without
refusing the deliveries it shares a transaction with; on every backend."""

from __future__ import annotations

import asyncio
import json
import time

from order_intake_helpers import BUSINESS, inbox_rows, intake_rig, post
from sqlalchemy import Engine

from masterops.web.group_commit import GroupCommit
from masterops_sandbox.hubspot import sign_v3

HUBSPOT_SECRET = "teelixir-hubspot-client-secret"
PORTAL = 4400123


async def test_a_storm_of_one_delivery_is_one_row_and_one_new_in_shared_transactions(
    engine: Engine,
) -> None:
    async with intake_rig(engine, inline=False) as rig:
        payload = rig.order_json(rig.order(1))
        answers = await asyncio.gather(*(post(rig, payload, event_id="storm") for _ in range(16)))
        assert [a.status_code for a in answers] == [202] * 16
        assert sorted(a.json()["new"] for a in answers) == [0] * 15 + [1]
        [row] = inbox_rows(engine)
        assert row["event_id"] == f"{BUSINESS}:storm" and row["status"] == "pending"
        writer: GroupCommit = rig.app.state.inbox_writer
        assert writer.batches < 16  # they shared transactions


async def test_a_nul_order_is_parked_and_the_deliveries_beside_it_are_stored(
    engine: Engine,
) -> None:
    async with intake_rig(engine, inline=False) as rig:
        good = rig.order_json(rig.order(0))
        poisoned = {**rig.order_json(rig.order(1)), "Comments": "rush\u0000order"}
        sends = [post(rig, good, event_id=f"good-{n}") for n in range(12)]
        sends.insert(5, post(rig, poisoned, event_id="poison"))
        answers = await asyncio.gather(*sends)
        assert [a.status_code for a in answers] == [202] * 13
        parked = answers[5].json()
        assert parked["status"] == "failed" and "NUL" in parked["reason"]
        assert all(a.json()["status"] == "accepted" for i, a in enumerate(answers) if i != 5)
        rows = {r["event_id"]: r for r in inbox_rows(engine)}
        assert len(rows) == 13
        poison = rows[f"{BUSINESS}:poison"]
        assert poison["status"] == "failed" and "NUL" in poison["error"]
        assert poison["payload_json"]["Comments"] == "rush\ufffdorder"
        assert all(r["status"] == "pending" for k, r in rows.items() if k != poison["event_id"])
        assert rig.app.state.inbox_writer.batches < 13


async def test_hubspot_and_order_deliveries_share_one_group_commit(engine: Engine) -> None:
    async with intake_rig(
        engine,
        inline=False,
        hubspot_secrets={BUSINESS: HUBSPOT_SECRET},
        hubspot_portals={PORTAL: BUSINESS},
    ) as rig:

        async def hubspot(n: int) -> int:
            events = [{"eventId": f"hs{n}", "portalId": PORTAL, "subscriptionType": "x.creation"}]
            body = json.dumps(events).encode()
            stamp = int(time.time() * 1000)
            uri = "https://ops.example.com/webhooks/hubspot"
            headers = {
                "Content-Type": "application/json",
                "X-HubSpot-Signature-v3": sign_v3(HUBSPOT_SECRET, "POST", uri, body, stamp),
                "X-HubSpot-Request-Timestamp": str(stamp),
            }
            answer = await rig.client.post("/webhooks/hubspot", content=body, headers=headers)
            return answer.status_code

        async def order(n: int) -> int:
            payload = rig.order_json(rig.order(0))
            return (await post(rig, payload, event_id=f"o{n}")).status_code

        statuses = await asyncio.gather(*(f(n) for n in range(8) for f in (hubspot, order)))
        assert statuses == [200, 202] * 8
        rows = inbox_rows(engine)
        assert sorted(r["source"] for r in rows) == ["hubspot"] * 8 + ["orders"] * 8
        assert rig.app.state.inbox_writer.batches < 16
